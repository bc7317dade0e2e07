import { spawn } from 'node:child_process';
import { credentialsArg, DROP_TO, EXIT_CANNOT_DROP, perlArgs, perlPath, type Credentials } from '../as-user/perl-helper.js';
import { errnoName } from '../errors.js';
import { parseAnswer, type SocketReply } from './ask-socket.js';
import { readIdentity } from './proc-identity.js';
import { judgePeer, type PeerCred } from './trust.js';
import { MAX_ANSWER_BYTES, type UpdateMessage } from '../types/registration-schema.js';

/** How long starting the connecting child and checking the peer may take (the machine may be loaded). */
const SETUP_BOUND_MS = 15_000;

/** Who connects, and who may answer. */
export interface SocketParty {
  /** The registered process's user: the connect is theirs, never root's (undefined: keep our own, when not root). */
  as: Credentials | undefined;
  /** The registered process: its own socket (pid and start time as SO_PEERCRED and /proc tell) is trusted... */
  pid: number;
  startTime: number;
  /** ...and so is a socket made by a process of this uid. */
  peerUid: number;
}

/** What askSocketAs adds to a socket's replies: the peer was not one to write to, and nothing was written. */
export type PeerReply = SocketReply | { kind: 'untrusted-peer'; peer: PeerCred; detail: string };

// Runs in the child with the registered process's user's credentials: connect, read SO_PEERCRED and
// print it, then wait for the message on stdin (sent only once the peer is judged), write it and pass
// the answer through. The path comes as argv, the message as stdin: data, never code.
const CHILD = `${DROP_TO}
use Socket qw(AF_UNIX SOCK_STREAM SOL_SOCKET SO_PEERCRED pack_sockaddr_un);
my ($path, $as) = @ARGV;
$| = 1;
binmode STDOUT;
sub fail { print qq({"errno":$_[0],"step":"$_[1]"}\\n); exit 1 }
drop_to($as);
socket(my $s, AF_UNIX, SOCK_STREAM, 0) or fail($! + 0, 'socket');
connect($s, pack_sockaddr_un($path)) or fail($! + 0, 'connect');
my $cred = getsockopt($s, SOL_SOCKET, SO_PEERCRED) or fail($! + 0, 'SO_PEERCRED');
my ($pid, $uid, $gid) = unpack('lLL', $cred);
print qq({"pid":$pid,"uid":$uid,"gid":$gid}\\n);
my $message = <STDIN>;
exit 2 unless defined $message && $message =~ /\\n\\z/;
for (my $off = 0; $off < length $message;) { my $n = syswrite($s, $message, length($message) - $off, $off); exit 3 unless defined $n; $off += $n }
while (1) {
  my $n = sysread($s, my $buf, 65536);
  last unless $n;
  for (my $off = 0; $off < $n;) { my $w = syswrite(STDOUT, $buf, $n - $off, $off); exit 3 unless defined $w; $off += $w }
}
exit 0;
`;

type FirstLine = { peer: PeerCred } | { error: string };

function firstLine(text: string): FirstLine {
  try {
    const json = JSON.parse(text) as Partial<PeerCred> & { errno?: number; step?: string };
    if (typeof json.errno === 'number') return { error: `${json.step ?? 'connect'}: ${errnoName(json.errno)}` };
    if (typeof json.pid === 'number' && typeof json.uid === 'number' && typeof json.gid === 'number') return { peer: { pid: json.pid, uid: json.uid, gid: json.gid } };
  } catch {
    // not a line the child writes
  }
  return { error: 'no connection' };
}

/**
 * askSocket, but the connect cannot be turned against root: it is made by a child with the
 * registered process's user's uid, gid and groups (a link swapped in reaches only what that user
 * could reach), and nothing is written until the peer of the connected socket (SO_PEERCRED, read
 * by the child right after connect) is the registered process or a process of `party.peerUid`
 * (judgePeer); otherwise `untrusted-peer`. SO_PEERCRED is the socket's own: it works whatever
 * network namespace the app is in. Setup is bounded by SETUP_BOUND_MS, the answer by `timeoutMs`
 * from the write; never throws.
 */
export function askSocketAs(path: string, message: UpdateMessage, timeoutMs: number, party: SocketParty, maxBytes = MAX_ANSWER_BYTES): Promise<PeerReply> {
  return new Promise((resolve) => {
    const perl = perlPath();
    if (perl === undefined) return resolve({ kind: 'failed', reason: `cannot connect to ${path} as its user: no perl (perl-base) for the connecting child` });
    const child = spawn(perl, perlArgs(CHILD, [path, credentialsArg(party.as)]), { stdio: ['pipe', 'pipe', 'ignore'], env: {} });
    let settled = false;
    let buffered = Buffer.alloc(0);
    let phase: 'connecting' | 'checking' | 'answering' = 'connecting';
    const finish = (reply: PeerReply): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(reply);
    };
    // Starting the child and checking the peer has its own bound; the answer gets timeoutMs once the message is sent.
    let timer = setTimeout(() => finish({ kind: 'failed', reason: `cannot connect to ${path} and check its peer within ${SETUP_BOUND_MS} ms` }), SETUP_BOUND_MS);
    const check = async (peer: PeerCred): Promise<void> => {
      const now = peer.pid === party.pid ? await readIdentity(peer.pid) : undefined;
      const verdict = judgePeer(peer, party, now?.startTime);
      if (!verdict.trusted) return finish({ kind: 'untrusted-peer', peer, detail: `${verdict.detail} on ${path}: nothing written` });
      if (settled) return;
      phase = 'answering';
      clearTimeout(timer);
      timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
      child.stdin.write(`${JSON.stringify(message)}\n`);
    };
    child.stdin.on('error', () => {
      // The child is gone: its close says what became of it.
    });
    child.stdout.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const newline = buffered.indexOf(0x0a);
      if (phase === 'connecting') {
        if (newline < 0) return;
        const first = firstLine(buffered.subarray(0, newline).toString('utf8'));
        buffered = buffered.subarray(newline + 1);
        if ('error' in first) return finish({ kind: 'failed', reason: `cannot talk to ${path} (${first.error})` });
        phase = 'checking';
        void check(first.peer);
        return;
      }
      if (phase !== 'answering') return;
      if ((newline < 0 ? buffered.length : newline) > maxBytes - 1) return finish({ kind: 'failed', reason: `answer larger than ${maxBytes} bytes` });
      if (newline >= 0) finish(parseAnswer(buffered.subarray(0, newline).toString('utf8')));
    });
    child.on('error', (error) => finish({ kind: 'failed', reason: `cannot talk to ${path} (${error.message})` }));
    child.on('close', (code) => {
      if (code === EXIT_CANNOT_DROP) return finish({ kind: 'failed', reason: `cannot connect to ${path}: the child could not take on uid ${party.as?.uid ?? '?'}` });
      finish({ kind: 'failed', reason: phase === 'connecting' ? `cannot talk to ${path} (no connection)` : 'the app closed the connection without an answer' });
    });
  });
}
