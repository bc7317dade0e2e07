import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StaleProcess } from '../src/types/stale.js';
import { lastRuns } from '../src/journal/last-runs.js';
import { evidenceOf, openLiveJournal } from '../src/run/live-journal.js';

const owner = { kind: 'system-unit', name: 'app.service', cgroup: '/system.slice/app.service' } as const;
const proc = (pid: number, path: string, ino: number): StaleProcess => ({
  pid, ppid: 1, startTime: 1, uid: 0, comm: 'app', exe: path, owner,
  files: [{ path, kind: 'replaced', via: 'exe', old: { dev: 'fe:00', ino: 1 }, new: { path, dev: 'fe:00', ino } }],
});
const plan = { daemonReload: false, actions: [] };

let stateDir: string;
beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'restartd-live-journal-'));
});
afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

describe('the journal of a run on the live scan', () => {
  it('keys what was stale by path and what is there now', () => {
    expect(evidenceOf([proc(1, '/srv/a', 7), proc(2, '/srv/a', 7)])).toEqual(['replaced|/srv/a|/srv/a@fe:00:7|']);
  });

  it('an interrupted run is resumed while nothing new is stale (what it restarted is clean now)', () => {
    const first = openLiveJournal(stateDir, [proc(1, '/srv/a', 7), proc(2, '/srv/b', 8)], false);
    first.begin(plan);
    // Killed here. The re-run sees b still stale, a restarted.
    const again = openLiveJournal(stateDir, [proc(3, '/srv/b', 8)], false);
    expect(again.resuming).toBe(true);
    expect(again.dir).toBe(first.dir);
  });

  it('a later upgrade is a new run; the older unfinished one is closed', () => {
    const first = openLiveJournal(stateDir, [proc(1, '/srv/a', 7)], false);
    first.begin(plan);
    // /srv/a was replaced again (another inode): not the same upgrade.
    const next = openLiveJournal(stateDir, [proc(1, '/srv/a', 9)], false);
    expect(next.resuming).toBe(false);
    expect(next.dir).not.toBe(first.dir);
    next.begin(plan);
    next.finish([]);
    const runs = lastRuns(stateDir, 5);
    expect(runs.map((r) => r.state)).toEqual(['finished', 'finished']);
  });

  it('a finished run is not resumed: the next live run is new', () => {
    const first = openLiveJournal(stateDir, [proc(1, '/srv/a', 7)], false);
    first.begin(plan);
    first.finish([]);
    expect(openLiveJournal(stateDir, [proc(1, '/srv/a', 7)], false).dir).not.toBe(first.dir);
  });
});
