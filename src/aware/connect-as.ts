import { spawn } from 'node:child_process';
import { parseAnswer, type SocketReply } from './ask-socket.js';
import { peerPids, uidsOf } from './peer-check.js';
import { MAX_ANSWER_BYTES, type UpdateMessage } from '../types/registration-schema.js';

/** How long starting the connecting child and checking the peer may take (the machine may be loaded). */
const SETUP_BOUND_MS = 15_000;

/** Who connects, and who must answer. */
export interface SocketParty {
  /** The registering user's uid and gid: the connect is theirs, never root's. */
  uid: number;
  gid: number;
  /** Every process holding the answering end must run as this uid only. */
  peerUid: number;
}

// Runs in the child, as the registering user: connect, say which socket (its inode), wait for "go",
// then send the message and pass the answer through. Path and message come as argv.
const CHILD = `
const net = require('node:net'); const fs = require('node:fs');
const [path, message] = process.argv.slice(1);
const s = net.createConnection({ path });
s.on('connect', () => {
  const link = fs.readlinkSync('/proc/self/fd/' + s._handle.fd);
  process.stdout.write(JSON.stringify({ ino: Number(/\\d+/.exec(link)[0]) }) + '\\n');
  process.stdin.once('data', (d) => { if (String(d).startsWith('go')) s.write(message + '\\n'); else process.exit(2); });
});
s.on('data', (c) => process.stdout.write(c));
s.on('end', () => process.exit(0));
s.on('error', (e) => { process.stdout.write(JSON.stringify({ error: e.code || e.message }) + '\\n'); process.exit(1); });
`;

function firstLine(text: string): { ino?: number; error?: string } {
  try {
    return JSON.parse(text) as { ino?: number; error?: string };
  } catch {
    return { error: 'no connection' };
  }
}

/**
 * askSocket, but the connect cannot be turned against root: it is made by a child running with the
 * registering user's uid and gid (a link swapped in reaches only what that user could reach), and
 * nothing is written until the peer of the connected socket is known to run as `party.peerUid`.
 * Setup is bounded by SETUP_BOUND_MS, the answer by `timeoutMs` from the write; never throws.
 */
export function askSocketAs(path: string, message: UpdateMessage, timeoutMs: number, party: SocketParty, maxBytes = MAX_ANSWER_BYTES): Promise<SocketReply> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', CHILD, path, JSON.stringify(message)], { uid: party.uid, gid: party.gid, stdio: ['pipe', 'pipe', 'ignore'], env: {} });
    let settled = false;
    let buffered = Buffer.alloc(0);
    let phase: 'connecting' | 'checking' | 'answering' = 'connecting';
    const finish = (reply: SocketReply): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(reply);
    };
    // Starting the child and checking the peer has its own bound; the answer gets timeoutMs once the message is sent.
    let timer = setTimeout(() => finish({ kind: 'failed', reason: `cannot connect to ${path} and check its peer within ${SETUP_BOUND_MS} ms` }), SETUP_BOUND_MS);
    const check = async (ino: number): Promise<void> => {
      const pids = await peerPids(ino, SETUP_BOUND_MS);
      if (pids.length === 0) return finish({ kind: 'failed', reason: `cannot tell who answers on ${path}: nothing written` });
      for (const pid of pids) {
        const uids = await uidsOf(pid);
        if (uids === undefined || uids.some((uid) => uid !== party.peerUid)) {
          return finish({ kind: 'failed', reason: `the process answering on ${path} (pid ${pid}) does not run as uid ${party.peerUid}: nothing written` });
        }
      }
      if (settled) return;
      phase = 'answering';
      clearTimeout(timer);
      timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
      child.stdin.write('go\n');
    };
    child.stdout.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const newline = buffered.indexOf(0x0a);
      if (phase === 'connecting') {
        if (newline < 0) return;
        const first = firstLine(buffered.subarray(0, newline).toString('utf8'));
        buffered = buffered.subarray(newline + 1);
        if (first.ino === undefined) return finish({ kind: 'failed', reason: `cannot talk to ${path} (${first.error ?? 'no connection'})` });
        phase = 'checking';
        void check(first.ino);
        return;
      }
      if (phase !== 'answering') return;
      if ((newline < 0 ? buffered.length : newline) > maxBytes - 1) return finish({ kind: 'failed', reason: `answer larger than ${maxBytes} bytes` });
      if (newline >= 0) finish(parseAnswer(buffered.subarray(0, newline).toString('utf8')));
    });
    child.on('error', (error) => finish({ kind: 'failed', reason: `cannot talk to ${path} (${error.message})` }));
    child.on('close', () => finish({ kind: 'failed', reason: 'the app closed the connection without an answer' }));
  });
}
