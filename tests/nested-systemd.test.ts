import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlannedAction } from '../src/types/plan.js';
import type { StaleReport } from '../src/report/stale-json.js';
import { runCli } from './support/cli.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { pollUntil } from './support/systemd/proc-identity.js';
import { Releases } from './support/systemd/releases.js';
import { cgroup2Root } from './support/systemd/tree.js';
import { mainPidOf, systemctl, writeUnit } from './support/systemd/units.js';

// A systemd inside another's cgroup tree (a container's, as the sandbox is to the real host) is a
// container: its stale app.service is never taken for the outer manager's app.service.
let outer: SystemdSandbox;
let inner: SystemdSandbox;
let releases: Releases;

beforeAll(async () => {
  outer = await startSystemd({ label: 'outer' });
  inner = await startSystemd({ label: 'inner', cgroupParent: outer.cgroupPrefix });
  releases = new Releases({ app: { from: '/bin/sleep' } });
  // The outer app.service is not stale; the inner one, of the same name, is.
  writeUnit(outer, 'app.service', { Service: ['Type=exec', 'ExecStart=/bin/sleep infinity'] });
  writeUnit(inner, 'app.service', { Service: ['Type=exec', `ExecStart=${releases.bin('app')} infinity`] });
  for (const sandbox of [outer, inner]) {
    await systemctl(sandbox, 'daemon-reload');
    await systemctl(sandbox, 'start', 'app.service');
  }
  releases.build({ app: 'changed' });
  releases.switchTo(2);
}, 120_000);

afterAll(async () => {
  // The inner sandbox's cgroup lies in the outer's tree: it goes first.
  await inner?.stop();
  await outer?.stop();
  releases?.remove();
});

const gens = (): string[] => ['--old', releases.dir(1), '--new', releases.dir(2), '--bus', outer.busAddress, '--state-dir', join(releases.root, 'state')];

describe('a nested systemd on a real systemd', () => {
  it('boots the inner manager inside the outer one\'s cgroup tree', () => {
    expect(inner.cgroupPrefix).toBe(`${outer.cgroupPrefix}/${basename(inner.dir)}`);
  });

  it('plans the inner stale app.service as a container, not as the outer app.service', async () => {
    const run = await runCli(['plan', ...gens(), '--json']);
    const report = JSON.parse(run.stdout) as StaleReport & { actions: PlannedAction[] };
    const innerPid = await mainPidOf(inner, 'app.service');
    expect(innerPid).toBeGreaterThan(0);
    const mine = report.actions.filter((a) => a.owner.cgroup?.includes('app.service') === true);
    expect(mine).toEqual([
      expect.objectContaining({ action: 'skip', reason: 'container', phase: 'none', owner: expect.objectContaining({ kind: 'container', name: basename(inner.dir) }) }),
    ]);
    expect(report.actions.some((a) => a.unit === 'app.service')).toBe(false);
  });

  it('a process in the outer app.service cgroup but outside its manager\'s PID namespace is not that unit\'s', async () => {
    // A process of ours (the host's PID namespace, which the outer manager cannot see) moved into its tree.
    const intruder = spawn(releases.bin('app', 1), ['infinity'], { stdio: 'ignore' });
    try {
      const pid = intruder.pid ?? 0;
      writeFileSync(join(cgroup2Root(), outer.cgroupPrefix, 'system.slice', 'app.service', 'cgroup.procs'), String(pid));
      const run = await runCli(['plan', ...gens(), '--json']);
      const report = JSON.parse(run.stdout) as StaleReport & { actions: PlannedAction[] };
      const action = report.actions.find((a) => a.pids.includes(pid));
      expect(action).toMatchObject({ action: 'skip', reason: 'container', owner: { kind: 'container', name: 'app.service', cgroup: '/system.slice/app.service' } });
      expect(report.actions.some((a) => a.unit === 'app.service')).toBe(false);
    } finally {
      intruder.kill('SIGKILL');
      await pollUntil(() => intruder.exitCode !== null || intruder.signalCode !== null, 10_000);
    }
  });

  it('apply leaves the outer app.service and the inner one running, and reports the container', async () => {
    const before = { outer: await mainPidOf(outer, 'app.service'), inner: await mainPidOf(inner, 'app.service') };
    const run = await runCli(['apply', ...gens(), '--json']);
    // Every owner skipped: nothing to do.
    expect(run.code).toBe(4);
    expect(run.stdout).toContain(basename(inner.dir));
    expect(await mainPidOf(outer, 'app.service')).toBe(before.outer);
    expect(await mainPidOf(inner, 'app.service')).toBe(before.inner);
  });
});
