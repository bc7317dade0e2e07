/**
 * The child restartd runs for one user to reach that user's systemd manager (see user-manager.ts).
 * It is started as root in the user's runtime dir with a clean environment, drops to the user
 * (supplementary groups, gid, uid) before it reads a byte of input, then talks D-Bus to the user
 * bus as that user and serves root's requests: one JSON line each way on stdin/stdout.
 */
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { connectSystemd, sendDesktopNotification } from './adapter.js';
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
    case 'mainPid':
      return manager.mainPid(request.unit);
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
      // A connection of its own to the same bus, as this user: the notification server is theirs.
      return sendDesktopNotification('unix:path=bus', request, `/run/user/${uid}/bus`);
  }
}

async function main(): Promise<void> {
  const args = ChildArgsSchema.parse(JSON.parse(process.argv[2] ?? 'null'));
  becomeUser(args);
  // The cwd is the user's runtime dir, opened by root where the manager sees it (maybe through
  // /proc/PID/root): the bus is reached relative to it, as the user.
  if (!existsSync('bus')) {
    send({ ready: false, absent: true, message: `no user bus at /run/user/${args.uid}/bus` });
    return;
  }
  let manager: SystemdManager;
  try {
    manager = await connectSystemd({ busAddress: 'unix:path=bus', managerProcess: null, callTimeoutMs: args.callTimeoutMs, managerUid: args.uid });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // A socket nobody listens on, or a bus without the manager on it: the user manager is not running.
    send({ ready: false, absent: /\((ECONNREFUSED|ENOENT)\)|NameHasNoOwner/.test(message), message });
    return;
  }
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
