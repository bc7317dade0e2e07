/**
 * The child restartd runs for one user to reach that user's systemd manager (see user-manager.ts).
 * It is started as root with the manager's root dir as its cwd and a clean environment, drops to
 * the user (supplementary groups, gid, uid) before it reads a byte of input, then talks D-Bus to
 * the user bus, or the manager's private socket where there is none, as that user and serves
 * root's requests: one JSON line each way on stdin/stdout.
 */
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { connectSystemd, isUnreachable, sendDesktopNotification } from './adapter.js';
import { RestartdError } from '../errors.js';
import type { SystemdManager } from '../types/systemd.js';
import { ChildArgsSchema, ChildRequestSchema, MAX_LINE_BYTES, type ChildArgs, type ChildRequest } from './user-manager-protocol.js';

function send(line: object): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function becomeUser(args: ChildArgs): void {
  if (process.getuid?.() === 0) {
    // initgroups(3) through NSS, as login does; Node has it, its type definitions no longer do.
    const { initgroups } = process as { initgroups?: (user: string, extraGroup: number) => void };
    if (initgroups === undefined || process.setgid === undefined || process.setuid === undefined) throw new Error('cannot change credentials on this platform');
    initgroups.call(process, args.name, args.gid);
    process.setgid(args.gid);
    process.setuid(args.uid);
  }
  const ids = [process.getuid?.(), process.geteuid?.(), process.getgid?.(), process.getegid?.()];
  if (ids.join() !== [args.uid, args.uid, args.gid, args.gid].join()) {
    throw new Error(`could not become uid ${args.uid} gid ${args.gid} (now ${ids.join(',')})`);
  }
}

async function serve(manager: SystemdManager, request: ChildRequest, uid: number): Promise<unknown> {
  switch (request.op) {
    case 'unitFacts':
      return manager.unitFacts(request.unit);
    case 'unitState':
      return manager.unitState(request.unit);
    case 'resetFailed':
      return manager.resetFailed(request.unit).then(() => null);
    case 'restart':
    case 'reload':
    case 'stop':
    case 'start':
      return manager[request.op](request.unit);
    case 'waitForJob':
      return manager.waitForJob(request.job, request.timeoutMs);
    case 'daemonReload':
      return manager.daemonReload().then(() => null);
    case 'reexecute':
      return manager.reexecute(request.timeoutMs).then(() => null);
    case 'notify':
      // A connection of its own to the user bus (relative to the manager's root, the cwd), as this user: the notification server is theirs.
      return sendDesktopNotification(`unix:path=run/user/${uid}/bus`, request, `/run/user/${uid}/bus`);
  }
}

/**
 * The user bus, else the manager's private socket. The cwd is the manager's root dir, opened by
 * root where the manager sees it (maybe through /proc/PID/root): both are reached relative to it,
 * as the user, and so are the unit files. Only a socket nobody answers on gives way to the next: a
 * bus whose manager is not the user's is refused, not gone around.
 */
async function reach(args: ChildArgs): Promise<SystemdManager | undefined> {
  const runtimeDir = `run/user/${args.uid}`;
  const ways = [
    { name: 'user bus', path: `${runtimeDir}/bus`, peerToPeer: false },
    { name: 'private socket', path: `${runtimeDir}/systemd/private`, peerToPeer: true },
  ].filter((way) => existsSync(way.path));
  const failures: string[] = [];
  for (const way of ways) {
    try {
      return await connectSystemd({
        busAddress: `unix:path=${way.path}`, peerToPeer: way.peerToPeer, managerProcess: null, callTimeoutMs: args.callTimeoutMs, managerUid: args.uid, filesRoot: '.',
      });
    } catch (error) {
      failures.push(`${way.name}: ${error instanceof Error ? error.message : String(error)}`);
      if (!isUnreachable(error)) {
        send({ ready: false, absent: false, message: failures.join('; ').slice(0, 2048) });
        return undefined;
      }
    }
  }
  const message = ways.length === 0 ? `neither /run/user/${args.uid}/bus nor /run/user/${args.uid}/systemd/private is there` : failures.join('; ');
  send({ ready: false, absent: true, message: message.slice(0, 2048) });
  return undefined;
}

async function main(): Promise<void> {
  const args = ChildArgsSchema.parse(JSON.parse(process.argv[2] ?? 'null'));
  becomeUser(args);
  const manager = await reach(args);
  if (manager === undefined) return;
  send({ ready: true, uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1, groups: process.getgroups?.() ?? [] });
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.length > MAX_LINE_BYTES) break;
    const parsed = ChildRequestSchema.safeParse(JSON.parse(line));
    if (!parsed.success) break;
    const request = parsed.data;
    serve(manager, request, args.uid).then(
      (value) => send({ id: request.id, ok: true, value: value ?? null }),
      (error: unknown) => {
        const code = error instanceof RestartdError && (error.code === 'SYSTEMD' || error.code === 'JOB_TIMEOUT') ? error.code : 'BUS';
        send({ id: request.id, ok: false, code, message: (error instanceof Error ? error.message : String(error)).slice(0, 4000) });
      },
    );
  }
  manager.close();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    send({ ready: false, absent: false, message: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  },
);
