import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireStateLock } from '../src/journal/state-lock.js';
import { createRestartd, DEFAULT_CONFIG, type Outcome } from '../src/index.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { Releases } from './support/systemd/releases.js';
import { mainPidOf, systemctl, writeUnit } from './support/systemd/units.js';

// The library facade end to end: createRestartd().apply() against a real systemd, journaled.
let sandbox: SystemdSandbox;
let releases: Releases;
let stateDir: string;

beforeAll(async () => {
  sandbox = await startSystemd({ label: 'library' });
  releases = new Releases({ app: { from: '/bin/sleep' } });
  stateDir = mkdtempSync(join(tmpdir(), 'restartd-library-state-'));
  writeUnit(sandbox, 'app.service', { Service: ['Type=exec', `ExecStart=${releases.bin('app')} infinity`] });
  await systemctl(sandbox, 'daemon-reload');
  await systemctl(sandbox, 'start', 'app.service');
  releases.build({ app: 'changed' });
  releases.switchTo(2);
});

afterAll(async () => {
  await sandbox?.stop();
  releases?.remove();
  rmSync(stateDir, { recursive: true, force: true });
});

describe('createRestartd().apply()', () => {
  it('resolves to kind busy (exit 6) while another run holds the lock, then restarts the stale unit with typed events', async () => {
    const restartd = createRestartd();
    const request = { old: releases.dir(1), new: releases.dir(2), busAddress: sandbox.busAddress, config: DEFAULT_CONFIG, stateDir };
    const held = await acquireStateLock(stateDir, { waitMs: 0, command: 'test' });
    expect(held.acquired).toBe(true);
    await expect(restartd.apply(request)).resolves.toMatchObject({ kind: 'busy', exitCode: 6, holder: { command: 'test' } });
    if (held.acquired) held.lock.release();

    const before = await mainPidOf(sandbox, 'app.service');
    const seen: string[] = [];
    const done: Outcome[] = [];
    restartd.on('plan:built', (plan) => seen.push(`plan:${plan.actions.filter((a) => a.unit === 'app.service').length}`));
    restartd.on('action:done', (outcome) => done.push(outcome));
    restartd.on('verify:done', (outcome) => seen.push(`verified:${outcome.unit}:${outcome.ok}`));
    const result = await restartd.apply(request);
    if (result.kind !== 'done') throw new Error(`expected a done run, got ${result.kind}`);
    expect(result.exitCode).toBe(0);
    expect(seen).toEqual(['plan:1', 'verified:app.service:true']);
    expect(done.filter((o) => o.unit === 'app.service')).toEqual([expect.objectContaining({ action: 'restart', ok: true, jobResult: 'done' })]);
    expect(result.report.outcomes.filter((o) => o.unit === 'app.service')).toEqual([expect.objectContaining({ ok: true })]);
    expect(await mainPidOf(sandbox, 'app.service')).not.toBe(before);
  });
});
