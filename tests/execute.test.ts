import { mkdtempSync, rmSync } from 'node:fs';
import { EventEmitter } from 'eventemitter3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executePlan } from '../src/execute/execute-plan.js';
import type { ExecuteEvents } from '../src/types/outcome.js';
import type { ActionKind, Phase, Plan, PlannedAction } from '../src/types/plan.js';
import { connectSystemd } from '../src/systemd/adapter.js';
import type { SystemdManager } from '../src/types/systemd.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { mainPidOf, systemctl, unitProperty, writeUnit } from './support/systemd/units.js';

let sandbox: SystemdSandbox;
let manager: SystemdManager;
let scratch: string;
const JOBS = { dryRun: false, concurrency: 4, jobTimeoutMs: 10_000 };

function act(unit: string, action: ActionKind, phase: Phase | 'none', extra: Partial<PlannedAction> = {}): PlannedAction {
  return { owner: { kind: 'system-unit', name: unit }, action, reason: 'test', pids: [], phase, unit, ...extra };
}

/** Records every event as "name unit" (or "name phase"), in order. */
function recorder(): { events: EventEmitter<ExecuteEvents>; log: string[] } {
  const events = new EventEmitter<ExecuteEvents>();
  const log: string[] = [];
  events.on('phase:start', (phase) => log.push(`phase ${phase}`));
  events.on('action:start', (a) => log.push(`start ${a.unit ?? a.owner.name}`));
  events.on('job:queued', (job) => log.push(`job ${job.method} ${job.unit}`));
  events.on('manager:done', (step) => log.push(`manager ${step.step} ${step.ok}`));
  events.on('action:done', (o) => log.push(`done ${o.unit} ${o.ok}`));
  return { events, log };
}

beforeAll(async () => {
  sandbox = await startSystemd({ label: 'exec' });
  scratch = mkdtempSync('/srv/restartd-test-execute-');
  const service = (extra: string[] = [], unit: string[] = []) => ({ Unit: unit, Service: ['Type=exec', 'ExecStart=/bin/sleep infinity', ...extra] });
  for (const name of ['one', 'two', 'cycled', 'other']) writeUnit(sandbox, `${name}.service`, service());
  writeUnit(sandbox, 'reloader.service', service([`ExecReload=/usr/bin/touch ${scratch}/reloaded`]));
  // A second start within the hour trips the start limit: only a reset-failed lets a restart through.
  writeUnit(sandbox, 'limited.service', service([], ['StartLimitBurst=1', 'StartLimitIntervalSec=1h']));
  for (const name of ['slow1', 'slow2', 'slow3', 'slow4']) writeUnit(sandbox, `${name}.service`, service(['ExecStartPre=/bin/sleep 0.2']));
  writeUnit(sandbox, 'hang.service', service(['ExecStartPre=/bin/sleep 5']));
  writeUnit(sandbox, 'echo.socket', { Socket: [`ListenStream=${scratch}/echo.sock`] });
  writeUnit(sandbox, 'echo.service', service());
  await systemctl(sandbox, 'daemon-reload');
  await systemctl(sandbox, 'start', 'one.service', 'two.service', 'cycled.service', 'other.service', 'reloader.service', 'limited.service', 'echo.socket', 'echo.service',
    'slow1.service', 'slow2.service', 'slow3.service', 'slow4.service');
  manager = await connectSystemd({ busAddress: sandbox.busAddress });
});

afterAll(async () => {
  manager?.close();
  await sandbox?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('executePlan on a real systemd', () => {
  it('runs the phases in order: stop, daemon-reload, reload, restart, start, notify, then the skips', async () => {
    const { events, log } = recorder();
    const before = await mainPidOf(sandbox, 'cycled.service');
    const plan: Plan = {
      daemonReload: true,
      actions: [
        act('cycled.service', 'stop-start', 'stop'),
        act('reloader.service', 'reload', 'reload'),
        act('one.service', 'restart', 'restart'),
        act('cycled.service', 'stop-start', 'start'),
        { owner: { kind: 'process', name: 'pid:42' }, action: 'notify', reason: 'test', pids: [42], phase: 'notify' },
        act('other.service', 'skip', 'none', { reason: 'config-skip' }),
      ],
    };
    const report = await executePlan(plan, manager, JOBS, events);
    expect(log).toEqual([
      'phase stop', 'start cycled.service', 'job StopUnit cycled.service', 'done cycled.service true',
      'phase daemon-reload', 'manager daemon-reload true',
      'phase reload', 'start reloader.service', 'job ReloadUnit reloader.service', 'done reloader.service true',
      'phase restart', 'start one.service', 'job RestartUnit one.service', 'done one.service true',
      'phase start', 'start cycled.service', 'job StartUnit cycled.service', 'done cycled.service true',
      'phase notify', 'start pid:42', 'done pid:42 false',
      'done other.service true',
    ]);
    const after = await mainPidOf(sandbox, 'cycled.service');
    expect(report.outcomes.find((o) => o.unit === 'cycled.service' && o.phase === 'start')?.mainPid).toEqual({ before, after });
    expect(after).not.toBe(before);
    expect(report.outcomes.find((o) => o.unit === 'pid:42')).toMatchObject({ ok: false, code: 'NOTIFY_UNAVAILABLE', jobResult: 'not-run' });
    expect(report.outcomes.find((o) => o.unit === 'other.service')).toMatchObject({ ok: true, action: 'skip', jobResult: 'not-run' });
    expect(report.managerSteps).toMatchObject([{ step: 'daemon-reload', ok: true }]);
  });

  it('resets a failed unit first, so a tripped start limit does not block its restart', async () => {
    // Without a reset, a start beyond the burst (1 per hour) hits the limit. (A daemon-reload resets
    // the counter, so it may take one restart more to trip.)
    let tripped = 'done';
    for (let i = 0; i < 3 && tripped === 'done'; i++) tripped = (await manager.waitForJob(await manager.restart('limited.service'), 10_000)).result;
    expect(tripped).toBe('failed');
    expect(await unitProperty(sandbox, 'limited.service', 'Result')).toBe('start-limit-hit');
    const report = await executePlan({ daemonReload: false, actions: [act('limited.service', 'restart', 'restart')] }, manager, JOBS);
    expect(report.outcomes).toMatchObject([{ unit: 'limited.service', ok: true, jobResult: 'done' }]);
    expect(await unitProperty(sandbox, 'limited.service', 'ActiveState')).toBe('active');
  });

  it('keeps at most `concurrency` jobs in flight within a phase', async () => {
    const { events } = recorder();
    let inFlight = 0;
    let most = 0;
    events.on('action:start', () => (most = Math.max(most, ++inFlight)));
    events.on('action:done', () => inFlight--);
    const units = ['slow1', 'slow2', 'slow3', 'slow4'].map((n) => `${n}.service`);
    const started = performance.now();
    const report = await executePlan({ daemonReload: false, actions: units.map((u) => act(u, 'restart', 'restart')) }, manager, { ...JOBS, concurrency: 2 }, events);
    expect(report.outcomes.map((o) => o.ok)).toEqual([true, true, true, true]);
    expect(most).toBe(2);
    // Two rounds of a 0.2 s ExecStartPre.
    expect(performance.now() - started).toBeGreaterThan(380);
  });

  it('restarts socket units after their service (stopped first: systemd refuses to start a socket whose service runs)', async () => {
    const { events, log } = recorder();
    const before = await mainPidOf(sandbox, 'echo.service');
    const report = await executePlan({ daemonReload: false, actions: [act('echo.service', 'restart', 'restart', { sockets: ['echo.socket'] })] }, manager, JOBS, events);
    expect(log.filter((l) => l.startsWith('job'))).toEqual(['job StopUnit echo.service', 'job RestartUnit echo.socket', 'job StartUnit echo.service']);
    expect(report.outcomes).toMatchObject([{ ok: true, jobResult: 'done', sockets: [{ unit: 'echo.socket', jobResult: 'done' }] }]);
    expect(await mainPidOf(sandbox, 'echo.service')).not.toBe(before);
    expect(await unitProperty(sandbox, 'echo.socket', 'ActiveState')).toBe('active');
  });

  it('reports a unit whose job outlives the timeout, and still runs the others', async () => {
    const report = await executePlan(
      { daemonReload: false, actions: [act('hang.service', 'restart', 'restart'), act('two.service', 'restart', 'restart')] },
      manager,
      { ...JOBS, jobTimeoutMs: 1000 },
    );
    expect(report.outcomes).toMatchObject([
      { unit: 'hang.service', ok: false, code: 'JOB_TIMEOUT', jobResult: 'unknown' },
      { unit: 'two.service', ok: true, jobResult: 'done' },
    ]);
    await manager.waitForJob(await manager.stop('hang.service'), 10_000);
  });

  it('--dry-run queues no job and answers from the same plan', async () => {
    const { events, log } = recorder();
    const before = await mainPidOf(sandbox, 'one.service');
    const plan: Plan = { daemonReload: true, actions: [act('two.service', 'reload', 'reload'), act('one.service', 'restart', 'restart', { sockets: ['x.socket'] })] };
    const report = await executePlan(plan, manager, { ...JOBS, dryRun: true }, events);
    expect(log.filter((l) => l.startsWith('job'))).toEqual([]);
    expect(report.managerSteps).toEqual([{ step: 'daemon-reload', ok: true, durationMs: 0, dryRun: true }]);
    expect(report.outcomes).toMatchObject([
      { unit: 'two.service', action: 'reload', ok: true, dryRun: true, jobResult: 'not-run' },
      { unit: 'one.service', action: 'restart', ok: true, dryRun: true, sockets: [{ unit: 'x.socket', jobResult: 'not-run' }] },
    ]);
    expect(await mainPidOf(sandbox, 'one.service')).toBe(before);
  });

  it('reports what it cannot do yet: jobs and daemon-reloads of user managers', async () => {
    const report = await executePlan(
      { daemonReload: false, actions: [act('app.service', 'restart', 'restart', { owner: { kind: 'user-unit', name: 'app.service', uid: 1000 }, userManager: { uid: 1000 } })] },
      manager,
      JOBS,
    );
    expect(report.outcomes).toMatchObject([{ ok: false, code: 'USER_MANAGER_UNAVAILABLE', jobResult: 'not-run' }]);
    const reloads = await executePlan({ daemonReload: false, userDaemonReloads: [1000], actions: [] }, manager, JOBS);
    expect(reloads.managerSteps).toMatchObject([{ step: 'daemon-reload', uid: 1000, ok: false }]);
  });

  it('reports a unit systemd does not know as a failure of that unit alone', async () => {
    const report = await executePlan(
      { daemonReload: false, actions: [act('missing.service', 'restart', 'restart'), act('one.service', 'restart', 'restart')] },
      manager,
      JOBS,
    );
    expect(report.outcomes[0]).toMatchObject({ unit: 'missing.service', ok: false, code: 'SYSTEMD' });
    expect(report.outcomes[1]).toMatchObject({ unit: 'one.service', ok: true });
  });
});
