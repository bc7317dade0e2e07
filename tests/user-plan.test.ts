import { describe, expect, it } from 'vitest';
import { adviceFor, desktopNotice, noticeProgram, noticeText } from '../src/aware/notice-text.js';
import { parseSessionFile, parseUtmp, UTMP_RECORD_BYTES } from '../src/aware/login-terminals.js';
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
  it('names the programs with their evidence and what to do, on one printable line', () => {
    const firefox = noticeProgram(proc(4, 1000, { kind: 'session-scope', uid: 1000, name: 'session-2.scope' }, 'firefox'));
    expect(firefox).toEqual({ name: 'firefox', pid: 4, evidence: 'deleted /srv/firefox' });
    expect(noticeText({ name: 'alice' }, [firefox], 'restart')).toBe('restartd: alice, after the update 1 of your programs still runs old code: firefox (pid 4: deleted /srv/firefox). Please restart firefox.');
    const many = Array.from({ length: 7 }, (_, i) => ({ name: `p${i}\u001b[2J`, pid: i, evidence: `replaced /usr/lib/p${i}.so` }));
    const text = noticeText({ name: 'bob' }, many, 'log-out');
    expect(text).toMatch(/^restartd: bob, after the update 7 of your programs still run old code: .* and 2 more\. Please log out and in again/);
    expect(text).not.toMatch(/\u001b/);
    expect(noticeText({ name: 'bob' }, many.slice(0, 2), 'reboot')).toMatch(/Please save your work: this system needs a reboot/);
  });

  it('every bidi control a name or path may hold is shown escaped, the marks (ALM, LRM, RLM) too, on the terminal line and in the notification', () => {
    const sly = { name: 'vim\u200f\u202e', pid: 9, evidence: 'deleted /srv/\u061cx\u200e\u2067\u009b2J' };
    const text = noticeText({ name: 'al' }, [sly], 'restart');
    expect(text).toBe('restartd: al, after the update 1 of your programs still runs old code: vim\\u200f\\u202e (pid 9: deleted /srv/\\u061cx\\u200e\\u2067\\x9b2J). Please restart vim\\u200f\\u202e.');
    const { summary, body } = desktopNotice(text, 'restart', [sly]);
    for (const shown of [text, summary, body]) expect(shown).not.toMatch(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/);
  });

  it('a long path or name is cut, its end kept: the notice stays within what a notification carries', () => {
    const deep = { ...proc(5, 1000, { kind: 'process', name: 'pid:5' }, 'x'.repeat(300)), files: [{ path: `/${'d/'.repeat(2000)}lib.so`, via: 'map', kind: 'deleted' }] } as StaleProcess;
    const program = noticeProgram(deep);
    expect(program.name).toHaveLength(64);
    expect(program.evidence).toMatch(/^deleted …\/?(d\/)+lib\.so$/);
    expect(program.evidence.length).toBeLessThan(200);
    const text = noticeText({ name: 'al' }, Array(9).fill(program), 'restart');
    const { summary, body } = desktopNotice(text, 'restart', Array(9).fill(program));
    expect(summary.length).toBeLessThanOrEqual(1024);
    expect(body.length).toBeLessThanOrEqual(8192);
  });

  it('asks for a reboot when the tier says so, else to log out for a stale session leader, else to restart', () => {
    expect([adviceFor('reboot', true), adviceFor('soft-reboot', false), adviceFor('restarts', true), adviceFor('none', false), adviceFor(undefined, false)]).toEqual(['reboot', 'reboot', 'log-out', 'restart', 'restart']);
  });

  it('a desktop notification says what to do in its summary; its body is text, not markup', () => {
    const programs = [{ name: 'vim', pid: 7, evidence: 'deleted /opt/<b>&x' }, { name: 'emacs', pid: 8, evidence: 'changed /usr/bin/emacs' }];
    const { summary, body } = desktopNotice(noticeText({ name: 'al' }, programs, 'restart'), 'restart', programs);
    expect(summary).toBe('Restart vim and emacs after an update');
    expect(body).toBe('al, after the update 2 of your programs still run old code: vim (pid 7: deleted /opt/&lt;b&gt;&amp;x), emacs (pid 8: changed /usr/bin/emacs). Please restart vim and emacs.');
  });
});

describe("a user's logins", () => {
  const record = (type: number, pid: number, line: string, user: string): Buffer => {
    const b = Buffer.alloc(UTMP_RECORD_BYTES);
    b.writeInt16LE(type, 0);
    b.writeInt32LE(pid, 4);
    b.write(line, 8, 32, 'latin1');
    b.write(user, 44, 32, 'latin1');
    return b;
  };

  it('utmp: the USER_PROCESS records whose line is a terminal name; dead entries, odd lines and a partial record are dropped', () => {
    const bytes = Buffer.concat([
      record(7, 10, 'pts/3', 'alice'),
      record(8, 11, 'pts/4', 'alice'), // DEAD_PROCESS
      record(7, 12, '../../etc/passwd', 'alice'),
      record(7, 13, ':0', 'alice'),
      record(7, 14, 'tty2', 'bob'),
      Buffer.alloc(100, 7),
    ]);
    expect(parseUtmp(bytes)).toEqual([{ pid: 10, line: 'pts/3', user: 'alice' }, { pid: 14, line: 'tty2', user: 'bob' }]);
    expect(parseUtmp(Buffer.alloc(0))).toEqual([]);
  });

  it("logind's session files: UID and a TTY that is a terminal name", () => {
    expect(parseSessionFile('# This is private data.\nUID=1000\nUSER=alice\nTTY=pts/0\nLEADER=42\n')).toEqual({ uid: 1000, tty: 'pts/0' });
    expect(parseSessionFile('UID=1000\nTTY=/dev/tty3\n')).toEqual({ uid: 1000, tty: 'tty3' });
    expect(parseSessionFile('UID=x\nTTY=pts/../../x\n')).toEqual({});
  });
});
