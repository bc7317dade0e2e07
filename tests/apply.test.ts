import { existsSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RestartdError } from '../src/errors.js';
import { createRestartd, type ApplyRequest, type ApplyResult } from '../src/index.js';
import { EXIT } from '../src/types/exit-codes.js';
import { runCli } from './support/cli.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { pollUntil } from './support/systemd/proc-identity.js';
import { Releases } from './support/systemd/releases.js';
import { cgroup2Root } from './support/systemd/tree.js';
import { hostPidsOfUnit, mainPidOf, systemctl, writeUnit } from './support/systemd/units.js';

let sandbox: SystemdSandbox;
let releases: Releases;
let config: string;
const UNITS = ['a', 'b', 'clean', 'failing', 'refuser', 'skipper', 'reloader', 'pinned', 'worker'].map((n) => `${n}.service`);
const before = new Map<string, number>();
const mainPids = async (): Promise<Map<string, number>> => new Map(await Promise.all(UNITS.map(async (u) => [u, await mainPidOf(sandbox, u)] as const)));

/** The library's switch run, as a package manager's hook would call it. */
async function apply(request: ApplyRequest = {}): Promise<Extract<ApplyResult, { kind: 'done' }>> {
  const result = await createRestartd({ busAddress: sandbox.busAddress, config }).apply({ old: releases.dir(1), new: releases.dir(2), ...request });
  if (result.kind !== 'done') throw new Error(`apply resolved to ${result.kind}`);
  return result;
}

/** The CLI on the same sandbox: what a person reads. */
async function applyCli(...args: string[]): Promise<{ code: number; out: string }> {
  // Its own state dir: never the host's /var/lib/restartd.
  const run = await runCli(['apply', '--bus', sandbox.busAddress, '--config', config, '--state-dir', join(releases.root, 'state'), ...args]);
  return { code: run.code, out: run.stdout };
}

beforeAll(async () => {
  sandbox = await startSystemd({ label: 'apply' });
  const sleep = { from: '/bin/sleep' };
  releases = new Releases({
    a: sleep, b: sleep, clean: sleep, failing: sleep, refuser: sleep, skipper: sleep, reloader: sleep, pinned: sleep, worker: sleep,
    // The failing unit's pre-start check passes in v1 and fails in v2.
    check: { from: '/bin/true', next: '/bin/false' },
  });
  config = join(releases.root, 'config.json');
  writeFileSync(config, '{ "version": 1 }\n');
  const run = (name: string, extra: string[] = [], unit: string[] = []) =>
    writeUnit(sandbox, `${name}.service`, { Unit: unit, Service: ['Type=exec', `ExecStart=${releases.bin(name)} infinity`, ...extra] });
  run('a');
  run('b');
  run('clean');
  run('failing', [`ExecStartPre=${releases.bin('check')}`]);
  run('refuser', [], ['RefuseManualStop=yes']);
  run('skipper', ['X-Restartd-Action=skip']);
  run('reloader', ['X-Restartd-Action=reload', `ExecReload=/usr/bin/touch ${releases.root}/reloaded`]);
  // Started from the old release by path: a restart brings back the same old program.
  writeUnit(sandbox, 'pinned.service', { Service: ['Type=exec', `ExecStart=${releases.bin('pinned', 1)} infinity`] });
  const w = releases.bin('worker');
  writeUnit(sandbox, 'worker.service', { Service: [`ExecStart=/bin/sh -c '${w} infinity & ${w} infinity & wait'`] });
  await systemctl(sandbox, 'daemon-reload');
  await systemctl(sandbox, 'start', ...UNITS);
  // worker.service: the shell and both workers, each past its exec.
  const cgroups = cgroup2Root();
  expect(await pollUntil(() => {
    const pids = hostPidsOfUnit(sandbox, cgroups, 'worker.service');
    return pids.filter((pid) => readlinkSync(`/proc/${pid}/exe`) === releases.bin('worker', 1)).length === 2;
  }, 5000)).toBe(true);

  releases.build({ a: 'changed', b: 'changed', failing: 'changed', check: 'changed', refuser: 'changed', skipper: 'changed', reloader: 'changed', pinned: 'changed', worker: 'changed' });
  releases.switchTo(2);
  for (const [unit, pid] of await mainPids()) before.set(unit, pid);
});

afterAll(async () => {
  await sandbox?.stop();
  releases?.remove();
});

describe('restartd apply on a real systemd', () => {
  it('--dry-run says what it would do and changes nothing', async () => {
    const library = await apply({ dryRun: true });
    expect(library).toMatchObject({ exitCode: EXIT.OK, dryRun: true });
    expect(library.report.outcomes.find((o) => o.unit === 'a.service')).toMatchObject({ action: 'restart', jobResult: 'not-run' });
    const { code, out } = await applyCli('--old', releases.dir(1), '--new', releases.dir(2), '--dry-run');
    expect(code).toBe(EXIT.OK);
    expect(out).toContain('would restart a.service (1 process)\n');
    expect(out).toContain('would restart worker.service (2 processes)\n');
    expect(out).toContain('would reload reloader.service (1 process)\n');
    expect(out).toMatch(/^would skip refuser\.service \(1 process\): refuse-manual-stop/m);
    expect(out).toMatch(/^would skip skipper\.service \(1 process\): x-restartd-action-skip/m);
    expect(out).not.toContain('clean.service');
    expect(out).not.toMatch(/restarting|restarted/);
    expect(out).toMatch(/^dry run: .*would restart/m);
    expect(await mainPids()).toEqual(before);
    expect(existsSync(join(releases.root, 'reloaded'))).toBe(false);
  });

  it('restarts exactly the stale units, leaves the clean and skipped ones alone, reports failures and still-stale units', async () => {
    const result = await apply({ concurrency: 2 });
    const byUnit = new Map(result.report.outcomes.map((o) => [o.unit, o]));
    expect(result.exitCode).toBe(EXIT.FAILED);
    // Only this sandbox's units: stale processes elsewhere on the host belong to other managers.
    expect([...byUnit.keys()].sort()).toEqual(UNITS.filter((u) => u !== 'clean.service').sort());
    const after = await mainPids();

    for (const unit of ['a.service', 'b.service', 'worker.service']) {
      expect(byUnit.get(unit)).toMatchObject({ action: 'restart', ok: true, jobResult: 'done', mainPid: { before: before.get(unit), after: after.get(unit) } });
      expect(after.get(unit)).not.toBe(before.get(unit));
      expect(byUnit.get(unit)?.stillStale).toBeUndefined();
    }
    expect(byUnit.get('worker.service')?.pids).toHaveLength(2);
    expect(after.get('clean.service')).toBe(before.get('clean.service'));

    expect(byUnit.get('failing.service')).toMatchObject({ action: 'restart', ok: false, jobResult: 'failed', code: 'JOB_FAILED' });
    expect(byUnit.get('refuser.service')).toMatchObject({ action: 'skip', ok: true, reason: 'refuse-manual-stop', jobResult: 'not-run' });
    expect(byUnit.get('skipper.service')).toMatchObject({ action: 'skip', ok: true, reason: 'x-restartd-action-skip' });
    expect(after.get('refuser.service')).toBe(before.get('refuser.service'));
    expect(after.get('skipper.service')).toBe(before.get('skipper.service'));

    // A reload keeps the process: ExecReload ran, and verify says the old program is still there.
    expect(byUnit.get('reloader.service')).toMatchObject({ action: 'reload', jobResult: 'done', code: 'STILL_STALE', mainPid: { before: before.get('reloader.service'), after: before.get('reloader.service') } });
    expect(existsSync(join(releases.root, 'reloaded'))).toBe(true);
    expect(after.get('reloader.service')).toBe(before.get('reloader.service'));

    const pinned = byUnit.get('pinned.service');
    expect(pinned).toMatchObject({ action: 'restart', ok: false, jobResult: 'done', code: 'STILL_STALE' });
    expect(after.get('pinned.service')).not.toBe(before.get('pinned.service'));
    expect(pinned?.stillStale).toEqual([{ pid: expect.any(Number), files: [{ path: releases.bin('pinned', 1), kind: 'changed' }] }]);
    expect(result.summary).toEqual({ ok: 3, failed: 3, skipped: 2, rebootHints: 0, leftRunning: 0 });
  });

  it('renders each step as a line: restarting, restarted with the MainPIDs and the time', async () => {
    const version = releases.build({ a: 'changed' });
    releases.switchTo(version);
    const pid = await mainPidOf(sandbox, 'a.service');
    const { code, out } = await applyCli('--old', releases.dir(version - 1), '--new', releases.dir(version));
    const now = await mainPidOf(sandbox, 'a.service');
    expect(out).toMatch(new RegExp(`^restarting a\\.service…\\nrestarted a\\.service \\(MainPID ${pid} -> ${now}\\) in \\d+ ms\\n1 restarted\\n$`));
    expect(code).toBe(EXIT.OK);
  });

  it('has nothing to do when no process of this manager is stale', async () => {
    const result = await apply({ old: releases.dir(2), new: releases.dir(2) });
    expect(result.report.outcomes).toEqual([]);
    expect(result.exitCode).toBe(EXIT.NOTHING_TO_DO);
    const { code, out } = await applyCli('--old', releases.dir(2), '--new', releases.dir(2));
    expect(out).toBe('nothing to do: no stale processes\n');
    expect(code).toBe(EXIT.NOTHING_TO_DO);
  });

  it('rejects a malformed config, naming the file and the field', async () => {
    const bad = join(releases.root, 'bad-config.json');
    writeFileSync(bad, '{ "version": 1, "units": [{ "match": "a", "action": "bounce" }] }\n');
    const error = await apply({ config: bad }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RestartdError);
    expect((error as RestartdError).code).toBe('BAD_CONFIG');
    expect((error as Error).message).toContain(bad);
    expect((error as Error).message).toContain('units[0].action');
  });
});
