import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotifier, judgeTarget, RegistrationSchema, type AwareEvents } from '../src/aware/index.js';
import type { StaleProcess } from '../src/types/stale.js';
import type { PlannedAction } from '../src/types/plan.js';
import { parseStat } from '../src/scan/parse.js';
import { until } from './support/live-process.js';

// Two real unprivileged users: A tries to get restartd (root) to signal root's and B's processes.
const suffix = randomBytes(3).toString('hex');
const userA = `restartd-test-${suffix}a`;
const userB = `restartd-test-${suffix}b`;
const uidOf = (user: string): number => Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
const asUser = (user: string, command: string[]): string[] => ['setpriv', `--reuid=${user}`, `--regid=${user}`, '--init-groups', ...command];

let tmp: string;
let dirA: string;
let uidA: number;
let uidB: number;
const children: ChildProcess[] = [];
const servers: Server[] = [];

function start(command: string[]): ChildProcess {
  const child = spawn(command[0] ?? 'false', command.slice(1), { stdio: 'ignore' });
  children.push(child);
  return child;
}
const startTimeOf = (pid: number): number => parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.startTime ?? -1;
const alive = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;

/** Runs a command as `user`, to completion. */
function runAs(user: string, command: string[], input?: string): void {
  const [setpriv, ...args] = asUser(user, command);
  execFileSync(setpriv ?? 'setpriv', args, input === undefined ? {} : { input });
}

/** A writes a registration into its own dir, as itself. */
function registerAsA(name: string, registration: object): string {
  const file = join(dirA, `${name}.json`);
  runAs(userA, ['sh', '-c', 'cat > "$1"', 'sh', file], JSON.stringify(registration));
  return file;
}

function registration(name: string, pid: number, extra: object = {}): object {
  return { version: 1, name, pid, startTime: startTimeOf(pid), notify: { kind: 'signal', signal: 'SIGHUP' }, ...extra };
}

function staleOf(pid: number, uid: number): StaleProcess {
  return { pid, ppid: 1, startTime: startTimeOf(pid), uid, comm: 'sleep', exe: '/usr/bin/sleep', owner: { kind: 'process', name: `pid:${pid}` }, files: [{ path: '/srv/app/lib.so', kind: 'deleted', via: 'map' }] };
}

const notifyAction = (pid: number): PlannedAction => ({ owner: { kind: 'process', name: `pid:${pid}` }, action: 'notify', reason: 'test', pids: [pid], phase: 'notify', unit: `pid:${pid}` });

/** Runs the coordinator on one process and one registration dir, as root. */
async function notify(pid: number, uid: number, dir = dirA) {
  const events = new EventEmitter<AwareEvents>();
  const delivered: number[] = [];
  const skipped: string[] = [];
  events.on('aware:delivered', (target) => delivered.push(target.pid));
  events.on('aware:skipped', (_file, reason) => skipped.push(reason));
  const notifier = createNotifier({ stale: [staleOf(pid, uid)], oldGeneration: '/gen/1', newGeneration: '/gen/2', dirs: [dir], stateDir: join(tmp, 'state') }, events);
  const outcome = await notifier(notifyAction(pid));
  return { outcome, delivered, skipped };
}

const exited = (child: ChildProcess): Promise<NodeJS.Signals | null> =>
  alive(child) ? new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal))) : Promise.resolve(child.signalCode);

beforeAll(() => {
  execFileSync('useradd', ['-m', userA]);
  execFileSync('useradd', ['-m', userB]);
  uidA = uidOf(userA);
  uidB = uidOf(userB);
  tmp = mkdtempSync(join(tmpdir(), 'restartd-aware-sec-'));
  chmodSync(tmp, 0o755);
});

afterAll(() => {
  for (const child of children) if (alive(child)) child.kill('SIGKILL');
  for (const server of servers) server.close();
  rmSync(tmp, { recursive: true, force: true });
  for (const user of [userA, userB]) {
    try {
      execFileSync('userdel', ['-r', user], { stdio: 'ignore' });
    } catch {
      // userdel -r complains about a missing mail spool: the user is gone all the same.
    }
  }
});

describe('a registration acts only on its owner\'s processes', () => {
  beforeAll(() => {
    dirA = join(tmp, 'a-aware.d');
    mkdirSync(dirA, { mode: 0o755 });
    chownSync(dirA, uidA, uidA);
  });

  it("user A registering root's process gets nothing signalled", async () => {
    const rootSleep = start(['sleep', '600']);
    registerAsA('root-victim', registration('root-victim', rootSleep.pid ?? 0));
    const { outcome, delivered } = await notify(rootSleep.pid ?? 0, 0);
    expect(delivered).toEqual([]);
    expect(outcome).toMatchObject({ ok: false, code: 'NOTIFY_FAILED', notified: [{ result: 'rejected', reason: expect.stringMatching(/^other-user: the registration is owned by uid \d+, pid \d+ runs as uid 0/) }] });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(alive(rootSleep)).toBe(true);
  });

  it("user A registering user B's process gets nothing signalled", async () => {
    const sleepB = start(asUser(userB, ['sleep', '600']));
    await new Promise((resolve) => setTimeout(resolve, 100));
    registerAsA('b-victim', registration('b-victim', sleepB.pid ?? 0));
    const { outcome, delivered } = await notify(sleepB.pid ?? 0, uidB);
    expect(delivered).toEqual([]);
    expect(outcome?.notified?.[0]).toMatchObject({ result: 'rejected', reason: expect.stringContaining(`runs as uid ${uidB}`) });
    expect(alive(sleepB)).toBe(true);
  });

  it('user A registering its own process gets it signalled', async () => {
    const sleepA = start(asUser(userA, ['sleep', '600']));
    await new Promise((resolve) => setTimeout(resolve, 100));
    registerAsA('own', registration('own', sleepA.pid ?? 0));
    const { outcome, delivered } = await notify(sleepA.pid ?? 0, uidA);
    expect(delivered).toEqual([sleepA.pid]);
    expect(outcome).toMatchObject({ ok: true, notified: [{ result: 'signalled', via: 'signal' }] });
    expect(await exited(sleepA)).toBe('SIGHUP');
  });

  it('PID 1 and kernel threads are never signalled, whoever registers them', async () => {
    const pid2 = parseStat(readFileSync('/proc/2/stat', 'utf8'));
    for (const pid of [1, 2]) {
      const dir = join(tmp, `root-${pid}.d`);
      mkdirSync(dir, { mode: 0o755 });
      writeFileSync(join(dir, 'x.json'), JSON.stringify(registration('x', pid)));
      const { outcome, delivered } = await notify(pid, 0, dir);
      expect(delivered).toEqual([]);
      expect(outcome?.notified?.[0]?.reason).toMatch(pid === 1 ? /^pid1/ : pid2 === undefined ? /^process-gone/ : /^kernel-thread/);
    }
  });

  it('a reused PID (other start time) is skipped with a reason', async () => {
    const sleepA = start(asUser(userA, ['sleep', '600']));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const pid = sleepA.pid ?? 0;
    registerAsA('reused', { ...registration('reused', pid), startTime: startTimeOf(pid) - 1 });
    const stale = { ...staleOf(pid, uidA), startTime: startTimeOf(pid) - 1 };
    const events = new EventEmitter<AwareEvents>();
    const notifier = createNotifier({ stale: [stale], oldGeneration: null, newGeneration: null, dirs: [dirA], stateDir: join(tmp, 'state') }, events);
    const outcome = await notifier(notifyAction(pid));
    // The pid's process started later than the registration's: not the registered process, not told.
    expect(outcome).toMatchObject({ ok: true, notified: [{ result: 'rejected', reason: expect.stringMatching(/^pid-reused: pid \d+ started at/) }] });
    expect(alive(sleepA)).toBe(true);
    expect(judgeTarget(RegistrationSchema.parse(registration('x', pid)), uidA, { pid, startTime: 1, uids: [uidA, uidA, uidA, uidA], kernelThread: false })).toMatchObject({ trusted: false, reason: 'pid-reused' });
  });

  it("a link A plants to root's registration is not followed", async () => {
    const rootSleep = start(['sleep', '600']);
    const rootFile = join(tmp, 'root-owned.json');
    writeFileSync(rootFile, JSON.stringify(registration('rootapp', rootSleep.pid ?? 0)));
    runAs(userA, ['ln', '-s', rootFile, join(dirA, 'planted.json')]);
    const { outcome, skipped } = await notify(rootSleep.pid ?? 0, 0);
    expect(outcome).toBeUndefined();
    expect(skipped).toContain(`${join(dirA, 'planted.json')}: is a symbolic link`);
    expect(alive(rootSleep)).toBe(true);
  });

  it("A's socket registration pointing at root's socket is not connected to", async () => {
    let connections = 0;
    const rootSocket = join(tmp, 'root.sock');
    const server = createServer(() => connections++);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(rootSocket, resolve));
    const sleepA = start(asUser(userA, ['sleep', '600']));
    await new Promise((resolve) => setTimeout(resolve, 100));
    registerAsA('sock', registration('sock', sleepA.pid ?? 0, { notify: { kind: 'socket', path: rootSocket } }));
    const { outcome, delivered } = await notify(sleepA.pid ?? 0, uidA);
    expect(delivered).toEqual([]);
    expect(outcome?.notified?.[0]).toMatchObject({ result: 'rejected', reason: expect.stringMatching(/^untrusted-socket: the socket is owned by uid 0/) });
    expect(connections).toBe(0);
  });

  it("A swapping its socket path for a link to root's socket (RENAME_EXCHANGE loop) gets nothing written to root's socket", async () => {
    // A world-connectable root socket: only the peer check stands between it and A's registration.
    const rootSocket = join(tmp, 'root-open.sock');
    let rootBytes = 0;
    const server = createServer((conn) => conn.on('data', (chunk) => (rootBytes += chunk.length)));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(rootSocket, resolve));
    chmodSync(rootSocket, 0o777);
    const appSocket = join(dirA, 'app.sock');
    const app = [
      'import os, socket, sys',
      's = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(16)',
      'while True:',
      '    c, _ = s.accept(); c.recv(65536); c.sendall(b\'{"type":"ack","answer":"handled"}\\n\'); c.close()',
    ].join('\n');
    const appA = start(asUser(userA, ['/usr/bin/python3', '-c', app, appSocket]));
    await until(() => existsSync(appSocket), "A's app socket");
    const swap = [
      'import ctypes, os, sys',
      'libc = ctypes.CDLL(None, use_errno=True)',
      'os.symlink(sys.argv[2], sys.argv[3])',
      'a, b = sys.argv[1].encode(), sys.argv[3].encode()',
      'while True: libc.renameat2(-100, a, -100, b, 2)',
    ].join('\n');
    start(asUser(userA, ['/usr/bin/python3', '-c', swap, appSocket, rootSocket, join(dirA, 'alt')]));
    await until(() => existsSync(join(dirA, 'alt')) || existsSync(appSocket) === false, 'the swapper to start');
    registerAsA('swap', registration('swap', appA.pid ?? 0, { notify: { kind: 'socket', path: appSocket }, ackTimeoutMs: 2000, fallback: 'none' }));
    const results: string[] = [];
    for (let i = 0; i < 60; i++) {
      const events = new EventEmitter<AwareEvents>();
      const notifier = createNotifier({ stale: [staleOf(appA.pid ?? 0, uidA)], oldGeneration: '/gen/1', newGeneration: `/gen/swap-${i}`, dirs: [dirA], stateDir: join(tmp, 'state-swap') }, events);
      const outcome = await notifier(notifyAction(appA.pid ?? 0));
      results.push(String(outcome?.notified?.[0]?.result));
    }
    expect(results).toHaveLength(60);
    expect(rootBytes).toBe(0);
    expect(results.every((r) => ['handled', 'rejected', 'failed'].includes(r))).toBe(true);
  }, 600_000);

  it('a dir A makes writable by others is not read', async () => {
    const sleepA = start(asUser(userA, ['sleep', '600']));
    await new Promise((resolve) => setTimeout(resolve, 100));
    registerAsA('open', registration('open', sleepA.pid ?? 0));
    runAs(userA, ['chmod', '0777', dirA]);
    try {
      const { outcome, skipped } = await notify(sleepA.pid ?? 0, uidA);
      expect(outcome).toBeUndefined();
      expect(skipped).toEqual([`${dirA} is writable by group or others (mode 777)`]);
      expect(alive(sleepA)).toBe(true);
    } finally {
      chmodSync(dirA, 0o755);
    }
  });
});
