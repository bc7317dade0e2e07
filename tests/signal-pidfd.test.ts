import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signalProcess } from '../src/aware/signal-process.js';
import { createNotifier, type AwareEvents } from '../src/aware/index.js';
import { parseStat } from '../src/scan/parse.js';
import type { PlannedAction } from '../src/types/plan.js';

// restartd (root, this test's uid) signals a registered app through a pidfd: pidfd_open pins the
// process, its start time is checked, then pidfd_send_signal, sent with the registering user's rights.
const suffix = randomBytes(3).toString('hex');
const userA = `restartd-sig-${suffix}a`;
const userB = `restartd-sig-${suffix}b`;
const uidOf = (user: string): number => Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
const asUser = (user: string, command: string[]): string[] => ['setpriv', `--reuid=${user}`, `--regid=${user}`, '--init-groups', ...command];
const startTimeOf = (pid: number): number => parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.startTime ?? -1;
const alive = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;
const exited = (child: ChildProcess): Promise<NodeJS.Signals | null> =>
  alive(child) ? new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal))) : Promise.resolve(child.signalCode);

const children: ChildProcess[] = [];
let tmp: string;
let uidA: number;

/** A process running `sleep`, started as `user` (root when none), once it runs what it was given. */
async function sleeper(user?: string): Promise<ChildProcess> {
  const command = user === undefined ? ['sleep', '600'] : asUser(user, ['sleep', '600']);
  const child = spawn(command[0] ?? 'false', command.slice(1), { stdio: 'ignore' });
  children.push(child);
  const pid = child.pid ?? 0;
  for (let i = 0; i < 100 && !readFileSync(`/proc/${pid}/cmdline`, 'latin1').startsWith('sleep'); i++) await new Promise((r) => setTimeout(r, 20));
  return child;
}

beforeAll(() => {
  for (const user of [userA, userB]) execFileSync('useradd', ['-M', user]);
  uidA = uidOf(userA);
  tmp = mkdtempSync(join(tmpdir(), 'restartd-sig-'));
  chmodSync(tmp, 0o755);
});
afterAll(() => {
  for (const child of children) if (alive(child)) child.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
  for (const user of [userA, userB]) {
    try {
      execFileSync('userdel', [user], { stdio: 'ignore' });
    } catch {
      // gone all the same
    }
  }
});

describe('signals go by pidfd: the process checked is the process signalled', () => {
  it('a wrong start time (the pid is another process now) is not signalled', async () => {
    const target = await sleeper();
    const pid = target.pid ?? 0;
    const result = await signalProcess(pid, startTimeOf(pid) - 1, 'SIGTERM');
    expect(result).toEqual({ kind: 'reused', startTime: startTimeOf(pid) });
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(target)).toBe(true);
  });

  it('the right start time is signalled, through the pidfd', async () => {
    const target = await sleeper();
    const pid = target.pid ?? 0;
    const startTime = startTimeOf(pid);
    expect(await signalProcess(pid, startTime, 'SIGTERM')).toEqual({ kind: 'signalled', via: 'pidfd' });
    expect(await exited(target)).toBe('SIGTERM');
    // Reaped: the same identity finds nothing at the pid (or another process there, with another start time).
    expect(['gone', 'reused']).toContain((await signalProcess(pid, startTime, 'SIGTERM')).kind);
  });

  it('a kernel without pidfd_open (ENOSYS) falls back to check-then-kill, and says so', async () => {
    const target = await sleeper();
    const pid = target.pid ?? 0;
    // Syscall numbers no kernel has stand for a kernel older than 5.3.
    const none = { open: 100_000, send: 100_001 };
    expect(await signalProcess(pid, startTimeOf(pid) + 5, 'SIGTERM', { syscalls: none })).toMatchObject({ kind: 'reused' });
    expect(alive(target)).toBe(true);
    const result = await signalProcess(pid, startTimeOf(pid), 'SIGTERM', { syscalls: none });
    expect(result).toEqual({ kind: 'signalled', via: 'kill', note: `pidfd_open is not available (ENOSYS): pid ${pid} was checked by start time, then signalled by kill` });
    expect(await exited(target)).toBe('SIGTERM');
  });

  it("sent with the registering user's rights: user A's credentials can't signal user B's process, whatever restartd was told", async () => {
    const victim = await sleeper(userB);
    const pid = victim.pid ?? 0;
    const result = await signalProcess(pid, startTimeOf(pid), 'SIGTERM', { as: { uid: uidA, gid: uidA, groups: [] } });
    expect(result).toEqual({ kind: 'failed', reason: 'EPERM' });
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(victim)).toBe(true);
    const own = await sleeper(userA);
    expect(await signalProcess(own.pid ?? 0, startTimeOf(own.pid ?? 0), 'SIGTERM', { as: { uid: uidA, gid: uidA, groups: [] } })).toEqual({ kind: 'signalled', via: 'pidfd' });
    expect(await exited(own)).toBe('SIGTERM');
  });

  it("the notifier signals a user's registered app by pidfd and reports it (signalVia)", async () => {
    const dir = join(tmp, 'a-aware.d');
    mkdirSync(dir, { mode: 0o755 });
    chownSync(dir, uidA, uidA);
    const app = await sleeper(userA);
    const pid = app.pid ?? 0;
    const registration = { version: 1, name: 'sig-app', pid, startTime: startTimeOf(pid), notify: { kind: 'signal', signal: 'SIGHUP' } };
    execFileSync('setpriv', asUser(userA, ['sh', '-c', 'cat > "$1"', 'sh', join(dir, 'app.json')]).slice(1), { input: JSON.stringify(registration) });
    const stale = { pid, ppid: 1, startTime: startTimeOf(pid), uid: uidA, comm: 'sleep', exe: '/usr/bin/sleep', owner: { kind: 'process' as const, name: `pid:${pid}` }, files: [{ path: '/srv/app/lib.so', kind: 'deleted' as const, via: 'map' as const }] };
    const action: PlannedAction = { owner: stale.owner, action: 'notify', reason: 'test', pids: [pid], phase: 'notify', unit: `pid:${pid}` };
    const warnings: string[] = [];
    const events = new EventEmitter<AwareEvents>();
    events.on('warning', (message) => warnings.push(message));
    const notifier = createNotifier({ stale: [stale], oldGeneration: '/gen/1', newGeneration: '/gen/2', dirs: [dir], stateDir: join(tmp, 'state') }, events);
    const outcome = await notifier(action);
    expect(outcome).toMatchObject({ ok: true, notified: [{ result: 'signalled', via: 'signal', signalVia: 'pidfd' }] });
    expect(warnings).toEqual([]);
    expect(await exited(app)).toBe('SIGHUP');
  });
});
