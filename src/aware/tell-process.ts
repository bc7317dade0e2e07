import { lstat } from 'node:fs/promises';
import type { Credentials } from '../as-user/perl-helper.js';
import { askSocketAs } from './connect-as.js';
import { signalProcess } from './signal-process.js';
import { readIdentity } from './proc-identity.js';
import type { UpdateMessage } from '../types/registration-schema.js';
import { concerns, judgeSocket, judgeTarget } from './trust.js';
import type { AwareEmitter, LoadedRegistration, NotifyResult, NotifyResultKind, NotifyTarget } from '../types/aware.js';

export interface TellOptions {
  message: UpdateMessage;
  events: AwareEmitter;
  procRoot?: string;
  /** A registration's ackTimeoutMs is cut to this (limits.ackTimeoutMaxMs): a user can't hold root's run. */
  maxAckTimeoutMs?: number | undefined;
}

/** The longest a registered app may keep root's run waiting for its answer, unless the config says otherwise. */
const DEFAULT_ACK_TIMEOUT_MAX_MS = 30_000;

/**
 * Tells one registered process about the update. Right before the signal or the connect it re-reads
 * the process's identity and judges the registration again (PID reuse, PID 1, kernel threads, another
 * user's process); a socket must be a socket owned by the registration's or the process's user. On a
 * timeout, a failure or `restart-me` the registration's fallback applies: `restart` sets
 * restartNeeded (nothing is killed here). Never throws.
 */
export async function tellProcess(loaded: LoadedRegistration, options: TellOptions): Promise<NotifyResult> {
  const started = performance.now();
  const { registration: reg, file, fileUid } = loaded;
  const { events } = options;
  const target: NotifyTarget = { pid: reg.pid, name: reg.name, file };
  const via = reg.notify.kind;
  const result = (kind: NotifyResultKind, extra: Partial<NotifyResult> = {}): NotifyResult => {
    const done: NotifyResult = { ...target, via, result: kind, restartNeeded: false, ...extra, durationMs: Math.round(performance.now() - started) };
    events.emit('aware:done', done);
    return done;
  };
  const fallback = (kind: NotifyResultKind, because: string, extra: Partial<NotifyResult> = {}): NotifyResult => {
    events.emit('aware:fallback', target, reg.fallback, because);
    return result(kind, { ...extra, fallback: reg.fallback, restartNeeded: reg.fallback === 'restart', reason: because });
  };

  if (!concerns(reg, options.message.files)) return result('not-concerned', { reason: 'none of the stale files is under its paths' });
  const identity = await readIdentity(reg.pid, options.procRoot);
  const verdict = judgeTarget(reg, fileUid, identity);
  if (!verdict.trusted || identity === undefined) return result('rejected', { reason: verdict.trusted ? 'process gone' : `${verdict.reason}: ${verdict.detail}` });

  // Helpers act with the registered process's user's rights, not root's (when restartd runs as root).
  const user = identity.uids[0] ?? 0;
  const asUser = (uid: number): Credentials | undefined => (process.geteuid?.() === 0 && uid !== 0 ? { uid, gid: identity.gids?.[0] ?? uid, groups: identity.groups ?? [] } : undefined);

  if (reg.notify.kind === 'signal') {
    // One process from the check to the signal (a pidfd), sent as the registration's owner: the kernel's kill rules hold too.
    const sent = await signalProcess(reg.pid, reg.startTime, reg.notify.signal, { as: asUser(fileUid) });
    if (sent.kind === 'gone') return result('rejected', { reason: `process-gone: pid ${reg.pid} is gone` });
    if (sent.kind === 'reused') return result('rejected', { reason: `pid-reused: pid ${reg.pid} started at ${sent.startTime ?? 'an unknown time'}, the registration names start time ${reg.startTime}` });
    if (sent.kind === 'failed') return fallback('failed', `cannot send ${reg.notify.signal}: ${sent.reason}`);
    if (sent.note !== undefined) events.emit('warning', `update-aware ${reg.name}: ${sent.note}`);
    events.emit('aware:delivered', target, 'signal');
    return result('signalled', { signalVia: sent.via });
  }

  const path = reg.notify.path;
  const socket = await lstat(path).then(
    (info) => ({ isSocket: info.isSocket(), uid: info.uid }),
    () => undefined,
  );
  if (socket === undefined) return fallback('failed', `no socket at ${path}`);
  const socketVerdict = judgeSocket(socket, fileUid, identity);
  if (!socketVerdict.trusted) return result('rejected', { reason: `${socketVerdict.reason}: ${socketVerdict.detail}` });
  events.emit('aware:delivered', target, 'socket');
  const timeoutMs = Math.min(reg.ackTimeoutMs, options.maxAckTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MAX_MS);
  // The connect is the process user's own (a child with their credentials), and the peer is checked before a byte is sent.
  const reply = await askSocketAs(path, options.message, timeoutMs, { as: asUser(user), pid: reg.pid, startTime: reg.startTime, peerUid: user });
  if (reply.kind === 'untrusted-peer') {
    events.emit('warning', `update-aware ${reg.name} (pid ${reg.pid}): untrusted-peer: ${reply.detail}`);
    return result('rejected', { reason: `untrusted-peer: ${reply.detail}` });
  }
  if (reply.kind === 'timeout') {
    events.emit('aware:timeout', target);
    return fallback('timeout', `no answer within ${timeoutMs} ms`);
  }
  if (reply.kind === 'failed') return fallback('failed', reply.reason);
  events.emit('aware:answered', target, reply.answer);
  if (reply.answer.answer === 'restart-me') return fallback('restart-me', 'the app asked to be restarted', { answer: reply.answer });
  return result(reply.answer.answer, { answer: reply.answer });
}
