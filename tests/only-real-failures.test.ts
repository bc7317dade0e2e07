import { rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlannedAction } from '../src/types/plan.js';
import type { RebootDecision } from '../src/types/status.js';
import { runCli } from './support/cli.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { Releases } from './support/systemd/releases.js';
import { mainPidOf, systemctl, unitProperty, writeUnit } from './support/systemd/units.js';

// Only real failures fail: a socket that is not loaded, masked or not active never fails its service
// (journald's systemd-journald-audit.socket on Debian), and status's tier follows the plan.
let sandbox: SystemdSandbox;
let releases: Releases;
let removed: Releases;

const SOCKETS = 'Sockets=absent.socket masked.socket idle.socket';
const exec = (name: string): string[] => ['Type=exec', `ExecStart=${releases.bin(name)} infinity`, SOCKETS];

beforeAll(async () => {
  sandbox = await startSystemd({ label: 'real' });
  releases = new Releases({ journal: { from: '/bin/sleep' }, changed: { from: '/bin/sleep' } });
  removed = new Releases({ logind: { from: '/bin/sleep' } });
  symlinkSync('/dev/null', join(sandbox.unitDir, 'masked.socket'));
  writeUnit(sandbox, 'idle.socket', { Socket: [`ListenStream=${join(releases.root, 'idle.sock')}`] });
  writeUnit(sandbox, 'journal.service', { Service: exec('journal') });
  writeUnit(sandbox, 'changed.service', { Service: exec('changed') });
  // Named like a protected unit whose plan is a reboot hint.
  writeUnit(sandbox, 'systemd-logind.service', { Service: ['Type=exec', `ExecStart=${removed.bin('logind', 1)} infinity`] });
  await systemctl(sandbox, 'daemon-reload');
  await systemctl(sandbox, 'start', 'journal.service', 'changed.service', 'systemd-logind.service');
  releases.build({ journal: 'changed', changed: 'changed' });
  releases.switchTo(2);
  // changed.service's unit file changes too: stop-start, with its sockets.
  writeUnit(sandbox, 'changed.service', { Unit: ['Description=changed'], Service: exec('changed') });
});

afterAll(async () => {
  await sandbox?.stop();
  releases?.remove();
  removed?.remove();
});

describe('only real failures fail, on a real systemd', () => {
  it('sockets that are not found, masked or inactive are in TriggeredBy, but no action names them', async () => {
    expect((await unitProperty(sandbox, 'changed.service', 'TriggeredBy')).split(' ').sort()).toEqual(['absent.socket', 'idle.socket', 'masked.socket']);
    expect(await unitProperty(sandbox, 'masked.socket', 'LoadState')).toBe('masked');
    const plan = await runCli(['plan', '--old', releases.dir(1), '--new', releases.dir(2), '--bus', sandbox.busAddress, '--json']);
    const actions = (JSON.parse(plan.stdout) as { actions: PlannedAction[] }).actions.filter((a) => a.unit === 'journal.service' || a.unit === 'changed.service');
    expect(actions.map((a) => `${a.phase} ${a.unit} ${(a.sockets ?? []).join(',')}`)).toEqual(['stop changed.service ', 'restart journal.service ', 'start changed.service ']);
  });

  it('apply restarts both services and fails neither: the sockets are left as they are', async () => {
    const before = { journal: await mainPidOf(sandbox, 'journal.service'), changed: await mainPidOf(sandbox, 'changed.service') };
    const apply = await runCli(['apply', '--old', releases.dir(1), '--new', releases.dir(2), '--bus', sandbox.busAddress, '--state-dir', join(releases.root, 'state')]);
    expect(apply.stdout).not.toContain('SOCKET_FAILED');
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    for (const unit of ['journal', 'changed'] as const) {
      expect(await unitProperty(sandbox, `${unit}.service`, 'ActiveState')).toBe('active');
      expect(await mainPidOf(sandbox, `${unit}.service`)).not.toBe(before[unit]);
    }
    expect(await unitProperty(sandbox, 'idle.socket', 'ActiveState')).toBe('inactive');
    expect(await unitProperty(sandbox, 'masked.socket', 'LoadState')).toBe('masked');
  });

  it("status's tier follows the plan: a stale owner the plan leaves for a reboot asks for a soft-reboot", async () => {
    // logind's program is deleted: stale for `status`, which reads no generations.
    removed.build({});
    removed.switchTo(2);
    rmSync(removed.dir(1), { recursive: true, force: true });
    const run = await runCli(['status', '--json', '--bus', sandbox.busAddress, '--state-dir', join(releases.root, 'state')]);
    const report = JSON.parse(run.stdout) as { reboot: RebootDecision; actions?: PlannedAction[] };
    const logind = report.actions?.find((a) => a.unit === 'systemd-logind.service');
    expect(logind).toMatchObject({ action: 'reboot-hint' });
    expect(report.reboot.reasons).toContainEqual({ code: 'owners-need-reboot', owners: [{ name: 'systemd-logind.service', action: 'reboot-hint' }], processes: 1 });
    expect(['soft-reboot', 'reboot']).toContain(report.reboot.tier);
    // CRITICAL (a reboot), not WARNING (restarts no apply would run).
    expect(run.code).toBe(2);
  });
});
