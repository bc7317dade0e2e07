import { describe, expect, it } from 'vitest';
import { noticeText } from '../src/aware/tell-users.js';
import { actionKey } from '../src/journal/journal-records.js';
import { buildPlan } from '../src/plan/build-plan.js';
import { groupByUser, userLines } from '../src/report/status-users.js';
import type { PlannedAction } from '../src/types/plan.js';
import type { StaleProcess } from '../src/types/stale.js';
import type { Owner } from '../src/types/owner.js';

// Users' units and apps in the pure parts: the plan, the journal's keys, the by-user report, the notice.
const CONFIG = { units: [], protect: [], unprotect: [] };
const proc = (pid: number, uid: number, owner: Owner, comm = 'app'): StaleProcess =>
  ({ pid, ppid: 1, startTime: pid * 10, uid, comm, exe: `/srv/${comm}`, owner, files: [{ path: `/srv/${comm}`, via: 'exe', kind: 'deleted', old: { dev: '0:1', ino: pid } }] }) as StaleProcess;
const userUnit = (uid: number, name: string): Owner => ({ kind: 'user-unit', uid, name, cgroup: `/user.slice/user-${uid}.slice/user@${uid}.service/app.slice/${name}` });

describe('user units in the plan', () => {
  const stale = [proc(10, 1000, userUnit(1000, 'sync.service')), proc(20, 1001, userUnit(1001, 'sync.service')), proc(30, 1001, { kind: 'session-scope', uid: 1001, name: 'session-3.scope' }, 'bash')];
  const units = new Map([['user/1000/sync.service', { name: 'sync.service' }]]);

  it("a user whose manager is absent gets a skip with the reason; another user's unit of the same name is restarted", () => {
    const plan = buildPlan(stale, { units, config: CONFIG, absentUserManagers: new Map([[1001, 'the user manager of bob (uid 1001) is not running']]) });
    const byUid = (uid: number): PlannedAction | undefined => plan.actions.find((a) => a.owner.kind === 'user-unit' && a.owner.uid === uid);
    expect(byUid(1000)).toMatchObject({ action: 'restart', userManager: { uid: 1000 } });
    expect(byUid(1001)).toMatchObject({ action: 'skip', reason: 'user-manager-absent', detail: 'the user manager of bob (uid 1001) is not running' });
    // The journal tells them apart: one user's done restart never stands for the other's.
    expect(actionKey(byUid(1000) as PlannedAction)).not.toBe(actionKey({ ...(byUid(1000) as PlannedAction), owner: userUnit(1001, 'sync.service') }));
  });

  it('status groups by user: units with their fate, session apps left running', () => {
    const plan = buildPlan(stale, { units, config: CONFIG, absentUserManagers: new Map([[1001, 'absent']]) });
    const users = groupByUser(stale, plan.actions, new Map([[1000, { uid: 1000, name: 'alice', manager: 'running' as const }], [1001, { uid: 1001, name: 'bob', manager: 'absent' as const, reason: 'not running' }]]));
    expect(users).toEqual([
      { uid: 1000, name: 'alice', manager: 'running', units: [expect.objectContaining({ unit: 'sync.service', pids: [10], fate: 'restart' })], sessionApps: [] },
      {
        uid: 1001, name: 'bob', manager: 'absent', managerReason: 'not running',
        units: [expect.objectContaining({ unit: 'sync.service', fate: 'skip', reason: 'user-manager-absent' })],
        sessionApps: [{ pid: 30, comm: 'bash', owner: 'session-3.scope', fate: 'leave-running' }],
      },
    ]);
    expect(userLines(users)).toEqual([
      'alice (uid 1000): manager running',
      '  sync.service: restarted through their manager',
      'bob (uid 1001): manager absent (not running)',
      '  sync.service: skipped (user-manager-absent)',
      '  bash (pid 30, session-3.scope): left running',
    ]);
  });

  it("root's and system units' processes are nobody's user processes", () => {
    expect(groupByUser([proc(1, 0, { kind: 'process', name: 'pid:1' }), proc(2, 33, { kind: 'system-unit', name: 'nginx.service' })], [], new Map())).toEqual([]);
  });
});

describe('the notice a user gets', () => {
  it('names the programs and what to do, on one printable line', () => {
    expect(noticeText({ name: 'alice' }, [{ comm: 'firefox', pid: 4 }], false)).toBe('restartd: alice, after the update 1 of your programs still runs old code: firefox (pid 4). Please restart them to run the new version.');
    const many = Array.from({ length: 7 }, (_, i) => ({ comm: `p${i}\u001b[2J`, pid: i }));
    const text = noticeText({ name: 'bob' }, many, true);
    expect(text).toMatch(/^restartd: bob, after the update 7 of your programs still run old code: .* and 2 more\. Please restart them, or log out and in again/);
    expect(text).not.toMatch(/\u001b/);
  });
});
