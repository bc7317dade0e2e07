import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { afterAll, describe, expect, it } from 'vitest';
import { signalProcess } from '../src/aware/signal-process.js';
import { createNotifier, type AwareEvents } from '../src/aware/index.js';
import type { PlannedAction } from '../src/types/plan.js';
import { startTimeOf as startTimeAt } from './support/systemd/proc-identity.js';
import { throwawayUser, type ThrowawayUser } from './support/throwaway-user.js';

// restartd (root, this test's uid) signals a registered app through a pidfd: pidfd_open pins the
// process, its start time is checked, then pidfd_send_signal, sent with the registering user's rights.
const a = throwawayUser('restartd-sig');
const b = throwawayUser('restartd-sig');
const startTimeOf = (pid: number): number => startTimeAt(pid) ?? -1;
const alive = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;
const exited = (child: ChildProcess): Promise<NodeJS.Signals | null> =>
  alive(child) ? new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal))) : Promise.resolve(child.signalCode);

const children: ChildProcess[] = [];

/** A process running `sleep`, started as `user` (root when none), once it runs what it was given. */
async function sleeper(user?: ThrowawayUser): Promise<ChildProcess> {
  const child = user === undefined ? spawn('sleep', ['600'], { stdio: 'ignore' }) : user.start(user.asUser(['sleep', '600']));
  if (user === undefined) children.push(child);
  const pid = child.pid ?? 0;
  for (let i = 0; i < 100 && !readFileSync(`/proc/${pid}/cmdline`, 'latin1').startsWith('sleep'); i++) await new Promise((r) => setTimeout(r, 20));
  return child;
}

afterAll(() => {
  for (const child of children) if (alive(child)) child.kill('SIGKILL');
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
    const victim = await sleeper(b);
    const pid = victim.pid ?? 0;
    const result = await signalProcess(pid, startTimeOf(pid), 'SIGTERM', { as: { uid: a.uid(), gid: a.uid(), groups: [] } });
    expect(result).toEqual({ kind: 'failed', reason: 'EPERM' });
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(victim)).toBe(true);
    const own = await sleeper(a);
    expect(await signalProcess(own.pid ?? 0, startTimeOf(own.pid ?? 0), 'SIGTERM', { as: { uid: a.uid(), gid: a.uid(), groups: [] } })).toEqual({ kind: 'signalled', via: 'pidfd' });
    expect(await exited(own)).toBe('SIGTERM');
  });

  it("the notifier signals a user's registered app by pidfd and reports it (signalVia)", async () => {
    const dir = join(a.scratch.root, 'a-aware.d');
    mkdirSync(dir, { mode: 0o755 });
    chownSync(dir, a.uid(), a.uid());
    const app = await sleeper(a);
    const pid = app.pid ?? 0;
    const registration = { version: 1, name: 'sig-app', pid, startTime: startTimeOf(pid), notify: { kind: 'signal', signal: 'SIGHUP' } };
    execFileSync('setpriv', a.asUser(['sh', '-c', 'cat > "$1"', 'sh', join(dir, 'app.json')]).slice(1), { input: JSON.stringify(registration) });
    const stale = { pid, ppid: 1, startTime: startTimeOf(pid), uid: a.uid(), comm: 'sleep', exe: '/usr/bin/sleep', owner: { kind: 'process' as const, name: `pid:${pid}` }, files: [{ path: '/srv/app/lib.so', kind: 'deleted' as const, via: 'map' as const }] };
    const action: PlannedAction = { owner: stale.owner, action: 'notify', reason: 'test', pids: [pid], phase: 'notify', unit: `pid:${pid}` };
    const warnings: string[] = [];
    const events = new EventEmitter<AwareEvents>();
    events.on('warning', (message) => warnings.push(message));
    const notifier = createNotifier({ stale: [stale], oldGeneration: '/gen/1', newGeneration: '/gen/2', dirs: [dir], stateDir: join(a.scratch.root, 'state') }, events);
    const outcome = await notifier(action);
    expect(outcome).toMatchObject({ ok: true, notified: [{ result: 'signalled', via: 'signal', signalVia: 'pidfd' }] });
    expect(warnings).toEqual([]);
    expect(await exited(app)).toBe('SIGHUP');
  });
});
