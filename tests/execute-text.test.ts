import { describe, expect, it } from 'vitest';
import { APPLY_EXIT, applyExitCode } from '../src/cli/apply-command.js';
import { actionStartLine, managerStepLine, outcomeLine, summaryLine } from '../src/report/outcome-text.js';
import type { Outcome } from '../src/types/outcome.js';

const unit = (name: string): Outcome['owner'] => ({ kind: 'system-unit', name });
const base = { reason: 'default', pids: [7], durationMs: 23.4 };

const restarted: Outcome = { ...base, unit: 'foo.service', owner: unit('foo.service'), action: 'restart', phase: 'restart', ok: true, jobResult: 'done', mainPid: { before: 41, after: 57 } };
const failed: Outcome = { ...restarted, unit: 'bar.service', owner: unit('bar.service'), ok: false, jobResult: 'failed', code: 'JOB_FAILED', cause: 'restart job of bar.service ended "failed"' };
const reloaded: Outcome = { ...restarted, action: 'reload', phase: 'reload', mainPid: { before: 41, after: 41 } };
const stopped: Outcome = { ...restarted, action: 'stop-start', phase: 'stop', mainPid: { before: 41, after: 0 } };
const started: Outcome = { ...restarted, action: 'stop-start', phase: 'start' };
const skipped: Outcome = { ...base, unit: 'db.service', owner: unit('db.service'), action: 'skip', phase: 'none', reason: 'refuse-manual-stop', detail: 'RefuseManualStop=yes', ok: true, jobResult: 'not-run', pids: [1, 2] };
const notified: Outcome = { ...base, unit: 'pid:9', owner: { kind: 'process', name: 'pid:9' }, action: 'notify', phase: 'notify', ok: false, jobResult: 'not-run', code: 'NOTIFY_UNAVAILABLE', cause: 'telling pid:9 about the update is not implemented yet' };
const reexec: Outcome = { ...base, unit: 'init', owner: { kind: 'pid1', name: 'init' }, action: 'daemon-reexec', phase: 'daemon-reload', ok: true, jobResult: 'done' };
const hint: Outcome = { ...base, unit: 'pid:3', owner: { kind: 'process', name: 'pid:3' }, action: 'reboot-hint', phase: 'none', reason: 'kernel', ok: true, jobResult: 'not-run' };
const timedOut: Outcome = { ...restarted, ok: false, jobResult: 'unknown', code: 'JOB_TIMEOUT', cause: 'no result for the RestartUnit job of foo.service after 90000 ms' };

describe('execution events as lines', () => {
  it.each([
    [restarted, 'restarted foo.service (MainPID 41 -> 57) in 23 ms'],
    [failed, 'FAILED bar.service: job result failed'],
    [timedOut, 'FAILED foo.service: no result for the RestartUnit job of foo.service after 90000 ms'],
    [reloaded, 'reloaded foo.service (MainPID 41) in 23 ms'],
    [stopped, 'stopped foo.service (MainPID was 41) in 23 ms'],
    [started, 'started foo.service (MainPID 41 -> 57) in 23 ms'],
    [skipped, 'skipped db.service (2 processes): refuse-manual-stop: RefuseManualStop=yes'],
    [notified, 'left running pid:9 (1 process): telling pid:9 about the update is not implemented yet'],
    [reexec, 're-executed PID 1 in 23 ms'],
    [hint, 'reboot needed for pid:3 (1 process): kernel'],
    [{ ...restarted, dryRun: true, jobResult: 'not-run', sockets: [{ unit: 'foo.socket', jobResult: 'not-run' }] } as Outcome, 'would restart foo.service and foo.socket (1 process)'],
    [{ ...skipped, dryRun: true } as Outcome, 'would skip db.service (2 processes): refuse-manual-stop: RefuseManualStop=yes'],
  ])('%#: %s', (outcome, line) => {
    expect(outcomeLine(outcome)).toBe(line);
  });

  it('announces jobs and manager steps', () => {
    expect(actionStartLine({ owner: unit('foo.service'), unit: 'foo.service', action: 'restart', phase: 'restart', reason: 'default', pids: [] })).toBe('restarting foo.service…');
    expect(actionStartLine({ owner: unit('foo.service'), unit: 'foo.service', action: 'stop-start', phase: 'stop', reason: 'default', pids: [] })).toBe('stopping foo.service…');
    expect(managerStepLine({ step: 'daemon-reload', ok: true, durationMs: 80.2 })).toBe('daemon-reload done in 80 ms');
    expect(managerStepLine({ step: 'daemon-reload', ok: false, durationMs: 1, cause: 'access denied' })).toBe('FAILED daemon-reload: access denied');
    expect(managerStepLine({ step: 'daemon-reload', ok: true, durationMs: 0, dryRun: true })).toBe('would daemon-reload');
    expect(managerStepLine({ step: 'daemon-reload', uid: 1000, ok: false, durationMs: 0, cause: 'not reachable' })).toBe('FAILED daemon-reload of the user manager of uid 1000: not reachable');
  });

  it('sums up', () => {
    expect(summaryLine([restarted, restarted, failed, skipped], [])).toBe('2 restarted, 1 failed, 1 skipped');
    expect(summaryLine([restarted, notified], [])).toBe('1 restarted, 1 left running');
    expect(summaryLine([], [])).toBe('nothing to do: no stale processes');
  });
});

describe('restartd apply exit codes: nothing to do, all ok and some failed differ', () => {
  it.each([
    ['nothing stale', [], [], APPLY_EXIT.NOTHING_TO_DO],
    ['only skips', [skipped], [], APPLY_EXIT.NOTHING_TO_DO],
    ['all ok, with a skip', [restarted, skipped], [], APPLY_EXIT.OK],
    ['a daemon-reload alone', [], [{ step: 'daemon-reload' as const, ok: true, durationMs: 1 }], APPLY_EXIT.OK],
    ['one failed', [restarted, failed], [], APPLY_EXIT.FAILED],
    ['the daemon-reload failed', [restarted], [{ step: 'daemon-reload' as const, ok: false, durationMs: 1 }], APPLY_EXIT.FAILED],
    ['a reboot hint', [restarted, hint], [], APPLY_EXIT.REBOOT],
    ['a reboot hint and a failure', [hint, failed], [], APPLY_EXIT.FAILED],
    ['only processes left running (nobody registered to be told)', [notified], [], APPLY_EXIT.NOTHING_TO_DO],
    ['restarts, and processes left running', [restarted, notified], [], APPLY_EXIT.OK],
  ])('%s -> %i', (_name, outcomes, managerSteps, code) => {
    expect(applyExitCode({ outcomes, managerSteps })).toBe(code);
  });
});
