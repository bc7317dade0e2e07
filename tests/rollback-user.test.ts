import { chmodSync, copyFileSync, mkdtempSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/types/exit-codes.js';
import { runCli } from './support/cli.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { Releases } from './support/systemd/releases.js';
import { createUser, installUserManagerUnits, startUserManager, userctl, userMainPid, writeUserUnit, type TestUser } from './support/systemd/user-manager.js';
import { mainPidOf, systemctl, writeUnit } from './support/systemd/units.js';

// A broken release that a user's own unit (systemctl --user) runs from: the rollback restarts it
// onto the old release through that user's own manager, with the system unit of the same release.
let sandbox: SystemdSandbox;
let alice: TestUser;
let releases: Releases;
let config: string;
let state: string;

/** The program the process runs, as the sandbox sees it. */
async function exeOf(pid: number): Promise<string> {
  const r = await sandbox.exec(['readlink', `/proc/${pid}/exe`]);
  return r.stdout.trim();
}

beforeAll(async () => {
  sandbox = await startSystemd({ label: 'rollback-user' });
  alice = createUser(`rdrbu${process.pid}`);
  releases = new Releases({ uapp: { from: '/bin/sleep' }, sysapp: { from: '/bin/sleep' }, check: { from: '/bin/true' } });
  // The user's manager runs as alice: she must reach the release dirs.
  chmodSync(releases.root, 0o755);
  state = mkdtempSync(join(releases.root, 'state-'));
  config = join(releases.root, 'config.json');
  writeFileSync(config, '{ "version": 1 }\n');
  installUserManagerUnits(sandbox);
  writeUnit(sandbox, 'sysapp.service', { Service: ['Type=exec', `ExecStart=${releases.bin('sysapp')} infinity`] });
  await systemctl(sandbox, 'daemon-reload');
  await systemctl(sandbox, 'start', 'sysapp.service');
  writeUserUnit(alice, 'uapp.service', { Service: ['Type=exec', `ExecStartPre=${releases.bin('check')}`, `ExecStart=${releases.bin('uapp')} infinity`] });
  await startUserManager(sandbox, alice);
  await userctl(sandbox, alice, 'start', 'uapp.service');
}, 120_000);

afterAll(async () => {
  await sandbox?.stop();
  alice?.remove();
  releases?.remove();
});

describe("a user's unit on a broken release, rolled back through the user's manager", { timeout: 240_000 }, () => {
  it('apply --rollback: the user unit fails on NEW, current goes back, it and the system unit run OLD again (exit 8)', async () => {
    const bad = releases.build({ uapp: 'changed', sysapp: 'changed', check: 'changed' });
    rmSync(releases.bin('check', bad));
    copyFileSync('/bin/false', releases.bin('check', bad));
    releases.switchTo(bad);
    const userBefore = await userMainPid(sandbox, alice, 'uapp.service');
    const run = await runCli(['apply', '--old', releases.dir(1), '--new', releases.dir(bad), '--link', releases.current, '--rollback', '--json',
      '--bus', sandbox.busAddress, '--config', config, '--state-dir', state]);
    expect(run.code, run.stdout + run.stderr).toBe(EXIT.ROLLED_BACK);
    const json = JSON.parse(run.stdout) as {
      outcomes: { unit: string; code?: string; owner: { kind: string } }[];
      rolledBack: { ok: boolean; reason: string; units: string[]; userUnits?: { uid: number; unit: string }[]; outcomes: { unit: string; ok: boolean; owner: { kind: string; uid?: number } }[] };
    };
    expect(json.outcomes.find((o) => o.unit === 'uapp.service')).toMatchObject({ code: 'JOB_FAILED', owner: { kind: 'user-unit' } });
    expect(json.rolledBack).toMatchObject({ ok: true, units: ['sysapp.service'], userUnits: [{ uid: alice.uid, unit: 'uapp.service' }] });
    expect(json.rolledBack.reason).toMatch(/^uapp\.service JOB_FAILED: /);
    expect(json.rolledBack.outcomes.map((o) => [o.unit, o.owner.kind, o.ok]).sort()).toEqual([['sysapp.service', 'system-unit', true], ['uapp.service', 'user-unit', true]]);
    expect(realpathSync(releases.current)).toBe(releases.dir(1));
    expect(readlinkSync(releases.current)).toBe('releases/v1');
    // Both run the old release's files again; the user's unit through her own manager.
    const userAfter = await userMainPid(sandbox, alice, 'uapp.service');
    expect(userAfter).not.toBe(0);
    expect(userAfter).not.toBe(userBefore);
    expect(await exeOf(userAfter)).toBe(releases.bin('uapp', 1));
    expect(await exeOf(await mainPidOf(sandbox, 'sysapp.service'))).toBe(releases.bin('sysapp', 1));
  });
});
