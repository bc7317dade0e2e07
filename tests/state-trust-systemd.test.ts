import { chmodSync, chownSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SwitchJournal } from '../src/journal/switch-journal.js';
import type { Plan } from '../src/types/plan.js';
import { runCli } from './support/cli.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { Releases } from './support/systemd/releases.js';
import { mainPidOf, systemctl, writeUnit } from './support/systemd/units.js';

// The attack: a user who can write into root's state dir plants an unfinished plan (and journal)
// for the next switch, naming a unit that is not stale; root's `apply` must refuse the state dir,
// not "resume" the planted plan and stop that unit.
const NOBODY = 65534;
let sandbox: SystemdSandbox;
let releases: Releases;

beforeAll(async () => {
  sandbox = await startSystemd({ label: 'trust' });
  releases = new Releases({ app: { from: '/bin/sleep' }, victim: { from: '/bin/sleep' } });
  for (const name of ['app', 'victim']) writeUnit(sandbox, `${name}.service`, { Service: ['Type=exec', `ExecStart=${releases.bin(name)} infinity`] });
  await systemctl(sandbox, 'daemon-reload');
  await systemctl(sandbox, 'start', 'app.service', 'victim.service');
  releases.build({ app: 'changed' });
  releases.switchTo(2);
});

afterAll(async () => {
  await sandbox?.stop();
  releases?.remove();
});

/** An unfinished plan for the OLD → NEW switch that stops victim.service, as if a run had begun it. */
function plantPlan(stateDir: string): string {
  const planted: Plan = {
    daemonReload: false,
    actions: [{ owner: { kind: 'system-unit', name: 'victim.service' }, action: 'stop-start', reason: 'planted', pids: [], phase: 'stop', unit: 'victim.service' }],
  };
  const journal = new SwitchJournal(stateDir, releases.dir(1), releases.dir(2));
  journal.begin(planted);
  return journal.dir;
}

async function apply(stateDir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli(['apply', '--old', releases.dir(1), '--new', releases.dir(2), '--bus', sandbox.busAddress, '--state-dir', stateDir]);
}

describe('root apply on a state dir a user could write', () => {
  it('a planted plan owned by a user: refused (UNSAFE_STATE, exit 3), the unit it names is never stopped, nothing restarted', async () => {
    const stateDir = join(releases.root, 'state-planted');
    mkdirSync(stateDir, { mode: 0o700 });
    const dir = plantPlan(stateDir);
    for (const name of readdirSync(dir)) chownSync(join(dir, name), NOBODY, NOBODY);
    const before = { app: await mainPidOf(sandbox, 'app.service'), victim: await mainPidOf(sandbox, 'victim.service') };
    const run = await apply(stateDir);
    expect(run.code, run.stdout + run.stderr).toBe(3);
    expect(run.stderr).toMatch(/state dir .*is owned by uid 65534/);
    expect(run.stderr).not.toContain('internal error');
    expect(await mainPidOf(sandbox, 'victim.service')).toBe(before.victim);
    expect(await mainPidOf(sandbox, 'app.service')).toBe(before.app);
  });

  it('a switches dir others can write: refused before the plan in it is read', async () => {
    const stateDir = join(releases.root, 'state-open');
    mkdirSync(stateDir, { mode: 0o700 });
    plantPlan(stateDir);
    chmodSync(join(stateDir, 'switches'), 0o777);
    const victim = await mainPidOf(sandbox, 'victim.service');
    const run = await apply(stateDir);
    expect(run.code, run.stdout + run.stderr).toBe(3);
    expect(run.stderr).toMatch(/switches.*writable by group or others/);
    expect(await mainPidOf(sandbox, 'victim.service')).toBe(victim);
  });

  it('control: the same plan written by root is an interrupted run of its own, and is resumed (so the refusals above are what kept victim.service up)', async () => {
    const stateDir = join(releases.root, 'state-root');
    mkdirSync(stateDir, { mode: 0o700 });
    plantPlan(stateDir);
    const victim = await mainPidOf(sandbox, 'victim.service');
    const run = await apply(stateDir);
    expect(run.stderr).not.toContain('UNSAFE');
    expect(await mainPidOf(sandbox, 'victim.service')).not.toBe(victim);
  });

  it('the same switch with a state dir of its own: only the stale unit restarts, victim.service stays', async () => {
    const stateDir = join(releases.root, 'state-clean');
    const before = { app: await mainPidOf(sandbox, 'app.service'), victim: await mainPidOf(sandbox, 'victim.service') };
    const run = await apply(stateDir);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(await mainPidOf(sandbox, 'app.service')).not.toBe(before.app);
    expect(await mainPidOf(sandbox, 'victim.service')).toBe(before.victim);
  });
});
