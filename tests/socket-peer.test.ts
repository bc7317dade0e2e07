import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotifier, judgePeer, type AwareEvents } from '../src/aware/index.js';
import type { PlannedAction } from '../src/types/plan.js';
import type { StaleProcess } from '../src/types/stale.js';
import { until } from './support/live-process.js';
import { startTimeOf as startTimeAt } from './support/systemd/proc-identity.js';
import { throwawayUser, type ThrowawayUser } from './support/throwaway-user.js';

// restartd (root, this test's uid) writes to an update-aware app's socket only when the process
// answering on it (SO_PEERCRED, read by the connecting child) is the registered app or its user's.
const a = throwawayUser('restartd-peer');
const b = throwawayUser('restartd-peer');
const startTimeOf = (pid: number): number => startTimeAt(pid) ?? -1;

// An app's socket: each connection's first line is logged by its length ("0" when nothing came
// before the connection closed), and a line gets a `handled` answer.
const SERVER = [
  'import os, socket, sys',
  'path, log, mode = sys.argv[1], sys.argv[2], int(sys.argv[3], 8)',
  's = socket.socket(socket.AF_UNIX); s.bind(path); os.chmod(path, mode); s.listen(16)',
  '# A daemon started as root may listen first, then hand its socket file to its user and drop to it.',
  'if len(sys.argv) > 4: uid = int(sys.argv[4]); os.chown(path, uid, uid); os.chown(log, uid, uid) if os.path.exists(log) else None; os.setgid(uid); os.setuid(uid)',
  'while True:',
  '    c, _ = s.accept(); data = b""',
  '    while not data.endswith(b"\\n"):',
  '        chunk = c.recv(65536)',
  '        if not chunk: break',
  '        data += chunk',
  '    open(log, "a").write("%d\\n" % len(data))',
  '    if data: c.sendall(b\'{"type":"ack","answer":"handled"}\\n\')',
  '    c.close()',
].join('\n');

const children: ChildProcess[] = [];
const dirA = join(a.scratch.root, 'a');
const dirB = join(a.scratch.root, 'b');

function start(command: string[]): ChildProcess {
  const child = spawn(command[0] ?? 'false', command.slice(1), { stdio: 'ignore' });
  children.push(child);
  return child;
}

/** `user`'s app serving `socket` (logging to socket + ".log"), optionally behind a command prefix (unshare). */
async function serve(user: ThrowawayUser, socket: string, mode: string, prefix: string[] = []): Promise<ChildProcess> {
  const app = start([...prefix, ...user.asUser(['/usr/bin/python3', '-c', SERVER, socket, `${socket}.log`, mode])]);
  await until(() => existsSync(socket), `${user.name}'s socket ${socket}`, 10_000);
  return app;
}

/** The lengths of the first lines the server at `socket` got, one per connection. */
const received = (socket: string): number[] => (existsSync(`${socket}.log`) ? readFileSync(`${socket}.log`, 'utf8').split('\n').filter(Boolean).map(Number) : []);

/** A registration, written by A into A's dir, for `pid` with `socket`. */
function registerAsA(name: string, pid: number, socket: string): void {
  const registration = { version: 1, name, pid, startTime: startTimeOf(pid), notify: { kind: 'socket', path: socket }, ackTimeoutMs: 5000, fallback: 'none' };
  execFileSync('setpriv', a.asUser(['sh', '-c', 'cat > "$1"', 'sh', join(dirA, `${name}.json`)]).slice(1), { input: JSON.stringify(registration) });
}

/** Runs the coordinator (as root) on A's process `pid`: its outcome and the warnings it gave. */
async function notify(pid: number) {
  const stale: StaleProcess = { pid, ppid: 1, startTime: startTimeOf(pid), uid: a.uid(), comm: 'app', exe: '/usr/bin/python3', owner: { kind: 'process', name: `pid:${pid}` }, files: [{ path: '/srv/app/lib.so', kind: 'deleted', via: 'map' }] };
  const action: PlannedAction = { owner: stale.owner, action: 'notify', reason: 'test', pids: [pid], phase: 'notify', unit: `pid:${pid}` };
  const events = new EventEmitter<AwareEvents>();
  const warnings: string[] = [];
  events.on('warning', (message) => warnings.push(message));
  const notifier = createNotifier({ stale: [stale], oldGeneration: '/gen/1', newGeneration: '/gen/2', dirs: [dirA], stateDir: join(a.scratch.root, 'state') }, events);
  return { outcome: await notifier(action), warnings };
}

beforeAll(() => {
  mkdirSync(dirA, { mode: 0o755 });
  mkdirSync(dirB, { mode: 0o755 });
  chownSync(dirA, a.uid(), a.uid());
  chownSync(dirB, b.uid(), b.uid());
});
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

describe("the process answering on an app's socket is checked by SO_PEERCRED before a byte is written", () => {
  it("the registered app's own socket is written to and answers", async () => {
    const socket = join(dirA, 'own.sock');
    const app = await serve(a, socket, '755');
    registerAsA('own', app.pid ?? 0, socket);
    const { outcome, warnings } = await notify(app.pid ?? 0);
    expect(outcome).toMatchObject({ ok: true, notified: [{ result: 'handled', via: 'socket' }] });
    expect(warnings).toEqual([]);
    expect(received(socket)).toHaveLength(1);
    expect(received(socket)[0]).toBeGreaterThan(10);
  });

  it('a socket served by a helper process of the same user is written to (a process of the registering uid)', async () => {
    const socket = join(dirA, 'helper.sock');
    await serve(a, socket, '755');
    const registered = start(a.asUser(['sleep', '600']));
    await until(() => readlinkSync(`/proc/${registered.pid ?? 0}/exe`).endsWith('/sleep'), 'the registered process');
    registerAsA('helper', registered.pid ?? 0, socket);
    const { outcome } = await notify(registered.pid ?? 0);
    expect(outcome).toMatchObject({ ok: true, notified: [{ result: 'handled' }] });
    expect(received(socket)).toHaveLength(1);
  });

  it("another user's socket swapped in (the checks passed, the connect reached B's server) gets nothing written, with a named warning", async () => {
    // B's world-connectable socket, its file made A's: it stands for a swap that won the race
    // after the lstat, so only the peer check is left between A's registration and B's app.
    const socket = join(dirB, 'b.sock');
    const appB = await serve(b, socket, '777');
    chownSync(socket, a.uid(), a.uid());
    const registered = start(a.asUser(['sleep', '600']));
    await until(() => readlinkSync(`/proc/${registered.pid ?? 0}/exe`).endsWith('/sleep'), 'the registered process');
    registerAsA('swapped', registered.pid ?? 0, socket);
    const { outcome, warnings } = await notify(registered.pid ?? 0);
    const detail = `the process answering (pid ${appB.pid}, uid ${b.uid()}) is neither pid ${registered.pid} nor a process of uid ${a.uid()} on ${socket}: nothing written`;
    expect(outcome).toMatchObject({ ok: false, code: 'NOTIFY_FAILED', notified: [{ result: 'rejected', reason: `untrusted-peer: ${detail}` }] });
    expect(warnings).toEqual([`update-aware swapped (pid ${registered.pid}): untrusted-peer: ${detail}`]);
    // B's server was connected to (that is how its peer was learnt) but got not one byte.
    await until(() => received(socket).length === 1, "B's server to see the connection closed");
    expect(received(socket)).toEqual([0]);
  });

  it('a daemon that listened as root, then dropped to its user, is written to as the registered pid (its start time checked)', async () => {
    const socket = join(dirA, 'dropped.sock');
    const daemon = start(['/usr/bin/python3', '-c', SERVER, socket, `${socket}.log`, '755', String(a.uid())]);
    await until(() => existsSync(socket) && readFileSync(`/proc/${daemon.pid ?? 0}/status`, 'utf8').includes(`Uid:\t${a.uid()}\t`), 'the daemon to drop to A');
    registerAsA('dropped', daemon.pid ?? 0, socket);
    const { outcome } = await notify(daemon.pid ?? 0);
    // SO_PEERCRED says uid 0 (the listener's credentials at listen()), but the pid is the registered one.
    expect(outcome).toMatchObject({ ok: true, notified: [{ result: 'handled' }] });
    expect(received(socket)).toHaveLength(1);
    // The same socket named by another of A's processes: uid 0 answers and it is not that pid.
    const other = start(a.asUser(['sleep', '600']));
    await until(() => readlinkSync(`/proc/${other.pid ?? 0}/exe`).endsWith('/sleep'), 'the other process');
    registerAsA('not-the-daemon', other.pid ?? 0, socket);
    const refused = await notify(other.pid ?? 0);
    expect(refused.outcome?.notified?.[0]).toMatchObject({ result: 'rejected', reason: expect.stringMatching(new RegExp(`^untrusted-peer: the process answering \\(pid ${daemon.pid}, uid 0\\)`)) });
    await until(() => received(socket).length === 2, 'the daemon to see the second connection closed');
    expect(received(socket)).toEqual([expect.any(Number), 0]);
  });

  it('an app in another network namespace is reached and answers (SO_PEERCRED is the socket\'s own, not per-netns)', async () => {
    const socket = join(dirA, 'netns.sock');
    const app = await serve(a, socket, '755', ['unshare', '--net', '--']);
    const pid = app.pid ?? 0;
    expect(readlinkSync(`/proc/${pid}/ns/net`)).not.toBe(readlinkSync('/proc/self/ns/net'));
    registerAsA('netns', pid, socket);
    const { outcome, warnings } = await notify(pid);
    expect(outcome).toMatchObject({ ok: true, notified: [{ result: 'handled', via: 'socket' }] });
    expect(warnings).toEqual([]);
    expect(received(socket)).toHaveLength(1);
  });

  it.each([
    ['the registered pid with its start time', { pid: 10, uid: 0, gid: 0 }, 7, true],
    ['the registered pid with another start time (reused), another uid', { pid: 10, uid: 0, gid: 0 }, 8, false],
    ['another process of the same uid', { pid: 11, uid: 1000, gid: 1000 }, undefined, true],
    ["another user's process", { pid: 11, uid: 1001, gid: 1000 }, undefined, false],
  ])('judgePeer: %s -> %s', (_name, peer, startTime, trusted) => {
    expect(judgePeer(peer, { pid: 10, startTime: 7, peerUid: 1000 }, startTime).trusted).toBe(trusted);
  });
});
