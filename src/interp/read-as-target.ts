import { credentialsArg, DROP_TO, runPerlSync, type Credentials } from '../as-user/perl-helper.js';
import type { Reader } from '../safe-fs/read-regular.js';
import { RootView } from './root-view.js';

/** One file to read for one process: the path as restartd reaches it, and whose rights the read has. */
export interface HeadRequest {
  pid: number;
  path: string;
  /** The process's filesystem uid and groups; undefined when unknown (nothing is read). */
  reader: Reader | undefined;
}

/** How long one reading child may take (regular files only, bounded reads; a hung mount is the risk). */
const CHILD_BOUND_MS = 5_000;

// Runs with the target's uid, gid and groups: the kernel judges every read (mode bits, ACLs, search
// permission on each parent dir, LSMs), as it would for the target. Paths come NUL-separated on
// stdin; for each, a little-endian length (-1: not read) and that many bytes. Opened non-blocking,
// not following a last link, and read only when fstat says regular.
const READER = `${DROP_TO}
use Fcntl qw(O_RDONLY O_NONBLOCK O_NOFOLLOW O_NOCTTY);
my ($max, $as) = @ARGV;
binmode STDIN;
binmode STDOUT;
my $input = do { local $/; <STDIN> } // '';
my @paths = split /\\0/, $input;
drop_to($as);
for my $path (@paths) {
  my $head;
  if (sysopen(my $fh, $path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY)) {
    if (-f $fh) {
      $head = '';
      while (length($head) < $max) { my $n = sysread($fh, $head, $max - length($head), length($head)); last unless $n; }
    }
    close $fh;
  }
  print defined $head ? pack('l<', length $head) . $head : pack('l<', -1);
}
exit 0;
`;

/**
 * The first `maxBytes` of each requested file (latin1), by pid; null where the process could not
 * have read it. Root reads nothing on a target's behalf: the reads for one set of credentials are
 * made by one child holding them (so the cost is per user, not per file), and the kernel decides.
 * Without root (no credentials to take on), or for a root target, the read is made here (for
 * another uid only where its mode bits allow). Never throws.
 */
export function readHeadsAs(requests: readonly HeadRequest[], maxBytes: number): Map<number, string | null> {
  const heads = new Map<number, string | null>();
  const byReader = new Map<string, HeadRequest[]>();
  const here = new RootView('');
  for (const request of requests) {
    const { reader } = request;
    if (reader === undefined) heads.set(request.pid, null);
    else if (reader.uid === 0 || process.geteuid?.() !== 0) heads.set(request.pid, here.readHead(request.path, maxBytes, reader) ?? null);
    else {
      const key = `${reader.uid}:${reader.gids.join(',')}`;
      const group = byReader.get(key);
      if (group === undefined) byReader.set(key, [request]);
      else group.push(request);
    }
  }
  for (const group of byReader.values()) {
    const reader = group[0]?.reader as Reader;
    const read = readAsOne(group.map((r) => r.path), maxBytes, { uid: reader.uid, gid: reader.gids[0] ?? reader.uid, groups: reader.gids.slice(1) });
    group.forEach((request, i) => heads.set(request.pid, read[i] ?? null));
  }
  return heads;
}

/** One child's reads, in order: the head, or null (not read, or the child failed: then nothing is read). */
function readAsOne(paths: readonly string[], maxBytes: number, as: Credentials): Array<string | null> {
  const run = runPerlSync(READER, [String(maxBytes), credentialsArg(as)], {
    input: paths.join('\0'),
    timeoutMs: CHILD_BOUND_MS,
    maxBytes: paths.length * (maxBytes + 4) + 4096,
  });
  if (run.code !== 0) return paths.map(() => null);
  const out: Array<string | null> = [];
  let at = 0;
  for (let i = 0; i < paths.length; i++) {
    if (at + 4 > run.stdout.length) return paths.map(() => null);
    const length = run.stdout.readInt32LE(at);
    at += 4;
    if (length < 0) {
      out.push(null);
      continue;
    }
    if (length > maxBytes || at + length > run.stdout.length) return paths.map(() => null);
    out.push(run.stdout.toString('latin1', at, at + length));
    at += length;
  }
  return out;
}
