import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Outcome } from '../src/types/outcome.js';
import { readJsonLines } from '../src/journal/durable-file.js';
import { lastRuns } from '../src/journal/last-runs.js';
import { procStartTime } from '../src/journal/proc-start-time.js';
import { acquireStateLock, liveLockHolder, lockPathOf, tryStateLock } from '../src/journal/state-lock.js';
import { SwitchJournal } from '../src/journal/switch-journal.js';
import type { Plan, PlannedAction } from '../src/types/plan.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'restartd-journal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const holderLine = (pid: number, startTime: number): string => `${JSON.stringify({ pid, startTime, since: '2026-01-01T00:00:00.000Z', command: 'apply' })}\n`;
const deadPid = (): number => spawnSync('/bin/true').pid ?? 999_999;

describe('the state lock', () => {
  it('is exclusive while its holder lives, and released by its holder only', () => {
    const first = tryStateLock(dir, 'apply');
    expect(first.acquired).toBe(true);
    const second = tryStateLock(dir, 'hook');
    expect(second).toMatchObject({ acquired: false, holder: { pid: process.pid, command: 'apply' } });
    expect(liveLockHolder(dir)).toMatchObject({ pid: process.pid });
    if (first.acquired) first.lock.release();
    expect(existsSync(lockPathOf(dir))).toBe(false);
    expect(tryStateLock(dir, 'hook').acquired).toBe(true);
  });

  it.each([
    ['its process is dead', () => holderLine(deadPid(), 1)],
    ['its pid now belongs to another process (start time differs)', () => holderLine(process.ppid, (procStartTime(process.ppid) ?? 0) + 1)],
  ])('is taken over when %s', (_what, content) => {
    writeFileSync(lockPathOf(dir), content());
    const attempt = tryStateLock(dir, 'apply');
    expect(attempt.acquired).toBe(true);
    expect(JSON.parse(readFileSync(lockPathOf(dir), 'utf8'))).toMatchObject({ pid: process.pid, startTime: procStartTime(process.pid) });
  });

  it('an empty lock file (creator killed before writing) is busy at first, stale after a grace period', () => {
    writeFileSync(lockPathOf(dir), '');
    expect(tryStateLock(dir, 'apply')).toMatchObject({ acquired: false, holder: undefined });
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockPathOf(dir), old, old);
    expect(tryStateLock(dir, 'apply').acquired).toBe(true);
  });

  it('waits a bounded time for a live holder', async () => {
    writeFileSync(lockPathOf(dir), holderLine(process.ppid, procStartTime(process.ppid) ?? 0));
    const started = Date.now();
    const attempt = await acquireStateLock(dir, { waitMs: 300, command: 'apply' });
    expect(attempt.acquired).toBe(false);
    // It did wait (and came back: the test's own timeout catches a wait without end).
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });
});

const owner = (name: string) => ({ kind: 'system-unit' as const, name, cgroup: `/system.slice/${name}` });
const action = (unit: string, phase: PlannedAction['phase'] = 'restart', kind: PlannedAction['action'] = 'restart'): PlannedAction => ({ owner: owner(unit), action: kind, reason: 'stale', pids: [1], phase, unit });
const outcome = (a: PlannedAction, ok: boolean): Outcome => ({ unit: a.unit ?? a.owner.name, owner: a.owner, action: a.action, phase: a.phase, reason: a.reason, ok, jobResult: ok ? 'done' : 'failed', durationMs: 5, pids: a.pids, ...(ok ? {} : { code: 'JOB_FAILED' as const, cause: 'x' }) });

describe('the switch journal', () => {
  const plan: Plan = { daemonReload: false, actions: [action('a.service'), action('b.service'), action('c.service'), action('skip.service', 'none', 'skip')] };

  it('an interrupted attempt is resumed with its own plan; done actions are skipped, failed ones run again', () => {
    const first = new SwitchJournal(dir, '/srv/r/v1', '/srv/r/v2');
    expect(first.begin(plan)).toBe(plan);
    first.record(outcome(plan.actions[0] as PlannedAction, true));
    first.record(outcome(plan.actions[1] as PlannedAction, false));
    // A kill in the middle of an append leaves a torn line.
    appendFileSync(join(first.dir, 'journal.jsonl'), '{"type":"outcome","at":"2026');

    const second = new SwitchJournal(dir, '/srv/r/v1', '/srv/r/v2');
    expect(second.resuming).toBe(true);
    const resumed = second.begin({ daemonReload: false, actions: [] });
    expect(resumed).toEqual(plan);
    expect(second.skipDone(action('a.service'))).toMatchObject({ unit: 'a.service', ok: true, detail: 'already done', jobResult: 'not-run' });
    expect(second.skipDone(action('b.service'))).toBeUndefined();
    expect(second.skipDone(action('c.service'))).toBeUndefined();
    second.record(outcome(action('b.service'), true));
    second.finish([]);

    const third = new SwitchJournal(dir, '/srv/r/v1', '/srv/r/v2');
    expect(third.resuming).toBe(false);
    expect(third.skipDone(action('b.service'))).toBeDefined();
    expect(readJsonLines(join(third.dir, 'journal.jsonl')).map((l) => (l as { type: string }).type)).toEqual(['begun', 'outcome', 'outcome', 'begun', 'outcome', 'finished']);
  });

  it('lastRuns: newest first, what was done, what failed, when', () => {
    const j = new SwitchJournal(dir, '/srv/r/v1', '/srv/r/v2');
    j.begin(plan);
    j.record(outcome(plan.actions[0] as PlannedAction, true));
    j.record(outcome(plan.actions[1] as PlannedAction, false));
    j.record({ ...outcome(plan.actions[3] as PlannedAction, true), jobResult: 'not-run' });
    j.finish([]);
    const [run, ...rest] = lastRuns(dir, 10);
    expect(rest).toEqual([]);
    expect(run).toMatchObject({
      old: '/srv/r/v1', new: '/srv/r/v2', state: 'finished', attempts: 1,
      done: [{ unit: 'a.service', action: 'restart' }],
      failed: [{ unit: 'b.service', action: 'restart', code: 'JOB_FAILED', cause: 'x' }],
      skipped: [{ unit: 'skip.service', action: 'skip' }],
    });
    expect(run?.finishedAt).toEqual(expect.any(String));
    expect(lastRuns(join(dir, 'nowhere'), 3)).toEqual([]);
  });
});

describe('a re-run after verify found a unit still stale', () => {
  const a = action('a.service');
  const b = action('b.service');
  const plan: Plan = { daemonReload: false, actions: [a, b] };
  const stillStale: Outcome = { ...outcome(a, false), code: 'STILL_STALE', cause: 'restarted, but 1 process still holds old files: /srv/x (deleted)' };

  it('reports the done action failed instead of repeating it; --retry runs it again; a clean one stays done', () => {
    const first = new SwitchJournal(dir, '/srv/r/v1', '/srv/r/v2');
    first.begin(plan);
    first.record(outcome(a, true));
    first.record(outcome(b, true));
    first.recordVerified(stillStale);
    first.recordVerified(outcome(b, true));
    first.finish([stillStale, outcome(b, true)]);

    const again = new SwitchJournal(dir, '/srv/r/v1', '/srv/r/v2');
    again.begin(plan);
    expect(again.skipDone(a)).toMatchObject({ unit: 'a.service', ok: false, code: 'STILL_STALE', jobResult: 'not-run', cause: expect.stringContaining('--retry') });
    expect(again.skipDone(b)).toMatchObject({ unit: 'b.service', ok: true, detail: 'already done' });
    again.finish([]);

    const retry = new SwitchJournal(dir, '/srv/r/v1', '/srv/r/v2', true);
    retry.begin(plan);
    expect(retry.skipDone(a)).toBeUndefined();
    expect(retry.skipDone(b)).toMatchObject({ ok: true, detail: 'already done' });
    // Done again and verified clean: done for good.
    retry.record(outcome(a, true));
    retry.recordVerified(outcome(a, true));
    retry.finish([]);
    expect(new SwitchJournal(dir, '/srv/r/v1', '/srv/r/v2').skipDone(a)).toMatchObject({ ok: true, detail: 'already done' });
  });
});
