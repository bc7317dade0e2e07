import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlannedAction } from '../src/types/plan.js';
import { runCli } from './support/cli.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { Releases } from './support/systemd/releases.js';
import { mainPidOf, systemctl, unitProperty, writeUnit } from './support/systemd/units.js';

// systemd's refusals are policy: a unit that cannot be started (or stopped) by hand is skipped with
// a hint, never stopped; a reload of a unit an earlier stop took down becomes a start.
let sandbox: SystemdSandbox;
let refusing: Releases;
let chained: Releases;

const exec = (releases: Releases, name: string): string[] => ['Type=exec', `ExecStart=${releases.bin(name)} infinity`];
const gens = (releases: Releases): string[] => ['--old', releases.dir(1), '--new', releases.dir(2), '--bus', sandbox.busAddress, '--state-dir', join(releases.root, 'state')];

beforeAll(async () => {
  sandbox = await startSystemd({ label: 'refuse' });
  refusing = new Releases({ lead: { from: '/bin/sleep' }, guarded: { from: '/bin/sleep' }, manual: { from: '/bin/sleep' } });
  chained = new Releases({ base: { from: '/bin/sleep' }, follower: { from: '/bin/sleep' }, holder: { from: '/bin/sleep' } });
  // guarded can only be started as lead's dependency, and restarts with it (PartOf=).
  writeUnit(sandbox, 'lead.service', { Unit: ['Wants=guarded.service'], Service: exec(refusing, 'lead') });
  writeUnit(sandbox, 'guarded.service', { Unit: ['RefuseManualStart=yes', 'PartOf=lead.service'], Service: exec(refusing, 'guarded') });
  // NixOS: only an admin starts it (read from the unit's file, not the bus).
  writeUnit(sandbox, 'manual.service', { Unit: ['X-OnlyManualStart=true'], Service: exec(refusing, 'manual') });
  writeUnit(sandbox, 'base.service', { Service: exec(chained, 'base') });
  writeUnit(sandbox, 'follower.service', { Unit: ['PartOf=base.service'], Service: [...exec(chained, 'follower'), 'ExecReload=/bin/true', 'X-ReloadIfChanged=true'] });
  // Not stale, bound to base, and not pulled in by base's start: base's stop takes it down.
  writeUnit(sandbox, 'bystander.service', { Unit: ['PartOf=base.service'], Service: ['Type=exec', 'ExecStart=/bin/sleep infinity'] });
  // Bound to holder, refuses a manual start, and only starter pulls it in: holder's stop would leave it down.
  writeUnit(sandbox, 'holder.service', { Service: exec(chained, 'holder') });
  writeUnit(sandbox, 'anchor.service', { Unit: ['RefuseManualStart=yes', 'PartOf=holder.service'], Service: ['Type=exec', 'ExecStart=/bin/sleep infinity'] });
  writeUnit(sandbox, 'starter.service', { Unit: ['Wants=anchor.service'], Service: ['Type=exec', 'ExecStart=/bin/sleep infinity'] });
  await systemctl(sandbox, 'daemon-reload');
  await systemctl(sandbox, 'start', 'lead.service', 'base.service', 'follower.service', 'manual.service', 'bystander.service', 'holder.service', 'starter.service');
  refusing.build({ guarded: 'changed', manual: 'changed' });
  refusing.switchTo(2);
  chained.build({ base: 'changed', follower: 'changed', holder: 'changed' });
  chained.switchTo(2);
});

afterAll(async () => {
  await sandbox?.stop();
  refusing?.remove();
  chained?.remove();
});

describe('systemd refusals on a real systemd', () => {
  it('a stale RefuseManualStart=yes unit is skipped with the unit that restarts it, and left running', async () => {
    const guardedPid = await mainPidOf(sandbox, 'guarded.service');
    const manualPid = await mainPidOf(sandbox, 'manual.service');
    const leadPid = await mainPidOf(sandbox, 'lead.service');
    const plan = await runCli(['plan', ...gens(refusing), '--json']);
    const actions = (JSON.parse(plan.stdout) as { actions: PlannedAction[] }).actions.filter((a) => a.unit === 'guarded.service' || a.unit === 'lead.service');
    expect(actions).toEqual([expect.objectContaining({ unit: 'guarded.service', action: 'skip', reason: 'refuse-manual-start', phase: 'none' })]);
    const manual = (JSON.parse(plan.stdout) as { actions: PlannedAction[] }).actions.find((a) => a.unit === 'manual.service');
    expect(manual).toMatchObject({ action: 'skip', reason: 'x-only-manual-start', detail: 'X-OnlyManualStart=true: only an admin starts it' });
    expect(actions[0]?.detail).toContain('RefuseManualStart=yes');
    expect(actions[0]?.detail).toContain('lead.service (PartOf=)');

    const apply = await runCli(['apply', ...gens(refusing)]);
    // Every owner skipped: nothing to do, not a systemd failure (exit 5).
    expect(apply.code).toBe(4);
    expect(apply.stdout).toContain('refuse-manual-start');
    expect(await unitProperty(sandbox, 'guarded.service', 'ActiveState')).toBe('active');
    expect(await mainPidOf(sandbox, 'guarded.service')).toBe(guardedPid);
    expect(await mainPidOf(sandbox, 'lead.service')).toBe(leadPid);
    expect(await mainPidOf(sandbox, 'manual.service')).toBe(manualPid);
  });

  it('reads the refusals from the bus: RefuseManualStart, CanStart, PartOf', async () => {
    const plan = await runCli(['plan', ...gens(refusing), '--json']);
    const guarded = (JSON.parse(plan.stdout) as { actions: PlannedAction[] }).actions.find((a) => a.unit === 'guarded.service');
    expect(guarded?.detail).toMatch(/^RefuseManualStart=yes: systemd refuses to start guarded\.service by hand, so a restart would leave it stopped; restart lead\.service \(PartOf=\)/);
  });

  it('a reload planned after a stop that takes the unit down becomes a start', async () => {
    // base's unit file changes: it is stopped before the daemon-reload, and follower (PartOf=) with it.
    // NixOS: only an admin starts it (read from the unit's file, not the bus).
  writeUnit(sandbox, 'manual.service', { Unit: ['X-OnlyManualStart=true'], Service: exec(refusing, 'manual') });
  writeUnit(sandbox, 'base.service', { Unit: ['Description=base, changed'], Service: exec(chained, 'base') });
    // holder's unit file changes too: its stop would take anchor down, which refuses a manual start.
    writeUnit(sandbox, 'holder.service', { Unit: ['Description=holder, changed'], Service: exec(chained, 'holder') });
    const before = await mainPidOf(sandbox, 'follower.service');
    const bystander = await mainPidOf(sandbox, 'bystander.service');
    const anchor = await mainPidOf(sandbox, 'anchor.service');
    const plan = await runCli(['plan', ...gens(chained), '--json']);
    const all = (JSON.parse(plan.stdout) as { actions: PlannedAction[] }).actions;
    const actions = all.filter((a) => a.unit === 'base.service' || a.unit === 'follower.service' || a.unit === 'bystander.service');
    expect(actions.map((a) => `${a.phase} ${a.action} ${a.unit}`)).toEqual(['stop stop-start base.service', 'start stop-start base.service', 'start stop-start bystander.service', 'start stop-start follower.service']);
    expect(actions[3]?.reason).toContain('the stop of base.service (PartOf=) earlier in this plan takes it down: started instead of reloaded');
    expect(actions[2]?.reason).toBe('the stop of base.service (PartOf=) takes it down: started again after it');
    // The bus says who is bound to whom (ConsistsOf=) and who refuses a manual start.
    const holder = all.filter((a) => a.unit === 'holder.service' || a.unit === 'anchor.service');
    expect(holder.map((a) => `${a.phase} ${a.action} ${a.unit}`)).toEqual(['restart restart holder.service']);
    expect(holder[0]?.reason).toContain('restarted instead of stop-started: the stop would take down anchor.service (PartOf=), which systemd refuses to start by hand');

    const apply = await runCli(['apply', ...gens(chained)]);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(await unitProperty(sandbox, 'follower.service', 'ActiveState')).toBe('active');
    expect(await unitProperty(sandbox, 'base.service', 'ActiveState')).toBe('active');
    const after = await mainPidOf(sandbox, 'follower.service');
    expect(after).not.toBe(before);
    expect(after).toBeGreaterThan(0);
    // Nothing that ran before is left down: the bystander was started again, anchor restarted with holder.
    for (const unit of ['bystander.service', 'anchor.service', 'holder.service', 'starter.service']) expect(await unitProperty(sandbox, unit, 'ActiveState')).toBe('active');
    expect([await mainPidOf(sandbox, 'bystander.service'), await mainPidOf(sandbox, 'anchor.service')]).not.toContain(0);
    expect(await mainPidOf(sandbox, 'bystander.service')).not.toBe(bystander);
    expect(await mainPidOf(sandbox, 'anchor.service')).not.toBe(anchor);
  });
});
