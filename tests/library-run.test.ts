import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRestartd, DEFAULT_CONFIG, EXIT } from '../src/index.js';
import { runCli } from './support/cli.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { Releases } from './support/systemd/releases.js';
import { mainPidOf, systemctl, writeUnit } from './support/systemd/units.js';

// The library's runs and the CLI's commands on the same switch give the same answers; and apply
// without generations acts on the live scan, as `restartd status` shows it.
let sandbox: SystemdSandbox;
let releases: Releases;
let tmp: string;
let closedWindow: string;

beforeAll(async () => {
  sandbox = await startSystemd({ label: 'librun' });
  releases = new Releases({ app: { from: '/bin/sleep' }, clean: { from: '/bin/sleep' } });
  tmp = mkdtempSync(join(tmpdir(), 'restartd-library-run-'));
  // A window that is never open now: it starts and ends one minute from now, yesterday's weekday only.
  const yesterday = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][(new Date().getUTCDay() + 6) % 7];
  closedWindow = join(tmp, 'closed.json');
  writeFileSync(closedWindow, JSON.stringify({ version: 1, fleet: { window: { days: [yesterday], start: '00:00', end: '00:01', timeZone: 'UTC' } } }));
  writeUnit(sandbox, 'app.service', { Service: ['Type=exec', `ExecStart=${releases.bin('app')} infinity`] });
  // Started from its release by path: the cleanup of v1 below leaves it alone.
  writeUnit(sandbox, 'clean.service', { Service: ['Type=exec', `ExecStart=${releases.bin('clean', 1)} infinity`] });
  await systemctl(sandbox, 'daemon-reload');
  await systemctl(sandbox, 'start', 'app.service', 'clean.service');
  releases.build({ app: 'changed' });
  releases.switchTo(2);
});

afterAll(async () => {
  await sandbox?.stop();
  releases?.remove();
  rmSync(tmp, { recursive: true, force: true });
});

function stateDir(name: string): string {
  return join(tmp, name);
}

describe('the library and the CLI on the same switch', () => {
  it('plan(): the object `restartd plan --json` prints, actions included', async () => {
    const request = { old: releases.dir(1), new: releases.dir(2), busAddress: sandbox.busAddress, config: DEFAULT_CONFIG };
    const report = await createRestartd().plan(request);
    const cli = await runCli(['plan', '--old', request.old, '--new', request.new, '--bus', sandbox.busAddress, '--json']);
    expect(cli.code).toBe(1);
    const printed = JSON.parse(cli.stdout) as typeof report;
    expect(Object.keys(report).sort()).toEqual(Object.keys(printed).sort());
    const restarts = (actions: typeof report.actions) => (actions ?? []).filter((a) => a.unit?.endsWith('.service') && a.action !== 'skip').map((a) => `${a.action} ${a.unit}`);
    expect(restarts(report.actions)).toEqual(['restart app.service']);
    expect(restarts(printed.actions)).toEqual(restarts(report.actions));
  });

  it('status(): every top-level field `restartd status --json` prints', async () => {
    const dir = stateDir('status');
    const report = await createRestartd().status({ busAddress: sandbox.busAddress, stateDir: dir, generations: [] });
    const cli = await runCli(['status', '--json', '--bus', sandbox.busAddress, '--state-dir', dir, '--generations', releases.current]);
    const printed = JSON.parse(cli.stdout) as Record<string, unknown>;
    for (const key of ['reboot', 'registrations', 'lastRuns', 'fleet', 'scanned', 'stale', 'owners']) {
      expect(report).toHaveProperty(key);
      expect(printed).toHaveProperty(key);
    }
  });

  it('apply() outside the maintenance window: kind deferred, exit 7, the switch pending; the CLI exits 7 too', async () => {
    const dir = stateDir('deferred');
    const result = await createRestartd().apply({ old: releases.dir(1), new: releases.dir(2), busAddress: sandbox.busAddress, config: closedWindow, stateDir: dir });
    expect(result).toMatchObject({ kind: 'deferred', exitCode: EXIT.DEFERRED, pending: true });
    expect(JSON.parse(readFileSync(join(dir, 'pending.json'), 'utf8'))).toMatchObject({ old: releases.dir(1), new: releases.dir(2) });
    const cli = await runCli(['apply', '--old', releases.dir(1), '--new', releases.dir(2), '--bus', sandbox.busAddress, '--config', closedWindow, '--state-dir', dir]);
    expect(cli.code).toBe(7);
    expect(cli.stdout).toContain('outside the maintenance window');
  });

  it('hook({ suspend: true }) records the switch and restarts nothing', async () => {
    const dir = stateDir('suspended');
    const before = await mainPidOf(sandbox, 'app.service');
    const result = await createRestartd().hook({ old: releases.dir(1), new: releases.dir(2), busAddress: sandbox.busAddress, stateDir: dir, suspend: true });
    expect(result).toMatchObject({ kind: 'suspended', exitCode: 0, pending: { old: releases.dir(1), new: releases.dir(2), invocations: 1 } });
    expect(existsSync(join(dir, 'pending.json'))).toBe(true);
    expect(await mainPidOf(sandbox, 'app.service')).toBe(before);
  });
});

describe('apply without generations: the live scan', () => {
  it('restarts the unit whose program was deleted, leaves the clean one, journals the run; a re-run does nothing more', async () => {
    // The cleanup a release tool does: the old release is gone, app.service still runs its program.
    const cleanBefore = await mainPidOf(sandbox, 'clean.service');
    rmSync(join(releases.dir(1), 'bin', 'app'));
    const dir = stateDir('live');
    const live = await createRestartd().plan({ busAddress: sandbox.busAddress, config: DEFAULT_CONFIG });
    expect(live.generations).toBeUndefined();
    expect((live.actions ?? []).filter((a) => a.unit === 'app.service').map((a) => a.action)).toEqual(['restart']);

    const before = await mainPidOf(sandbox, 'app.service');
    const result = await createRestartd().apply({ busAddress: sandbox.busAddress, config: DEFAULT_CONFIG, stateDir: dir });
    if (result.kind !== 'done') throw new Error(`expected a done run, got ${result.kind}`);
    expect(result.exitCode).toBe(EXIT.OK);
    expect(result.changeSet).toBeUndefined();
    expect(result.report.outcomes.filter((o) => o.unit === 'app.service')).toEqual([expect.objectContaining({ action: 'restart', ok: true })]);
    expect(result.journalDir).toMatch(/switches\/live-[0-9a-f]+$/);
    const after = await mainPidOf(sandbox, 'app.service');
    expect(after).not.toBe(before);
    expect(await mainPidOf(sandbox, 'clean.service')).toBe(cleanBefore);

    // Nothing of the sandbox is stale any more: the CLI's live apply restarts nothing.
    const cli = await runCli(['apply', '--bus', sandbox.busAddress, '--state-dir', dir, '--json']);
    const printed = JSON.parse(cli.stdout) as { outcomes: { unit: string; action: string }[] };
    expect(printed.outcomes.filter((o) => o.unit === 'app.service' || o.unit === 'clean.service')).toEqual([]);
    expect(await mainPidOf(sandbox, 'app.service')).toBe(after);
  });
});

describe('watch(): the switch run once per settled switch of the link', () => {
  it('restarts the unit when `current` moves to a release that changed its program, then stops on abort', async () => {
    const restartd = createRestartd({ busAddress: sandbox.busAddress, config: DEFAULT_CONFIG, stateDir: stateDir('watch') });
    const stop = new AbortController();
    const ready = new Promise<string | undefined>((resolve) => restartd.once('watch:ready', (_link, target) => resolve(target)));
    const ran = new Promise<[string, string, unknown]>((resolve, reject) => {
      restartd.once('watch:ran', (old, next, result) => resolve([old, next, result]));
      restartd.once('watch:failed', (_old, _next, error) => reject(error));
    });
    const watching = restartd.watch({ link: releases.current, debounceMs: 100, signal: stop.signal });
    const from = await ready;
    const before = await mainPidOf(sandbox, 'app.service');
    const version = releases.build({ app: 'changed' });
    releases.switchTo(version);
    const [old, next, result] = await ran;
    expect([old, next]).toEqual([from, releases.dir(version)]);
    expect(result).toMatchObject({ kind: 'done', exitCode: EXIT.OK });
    expect(await mainPidOf(sandbox, 'app.service')).not.toBe(before);
    stop.abort();
    await watching;
  });
});
