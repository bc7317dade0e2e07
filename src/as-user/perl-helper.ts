import { statSync } from 'node:fs';

/**
 * What Node 20 can't do without a native addon (pidfd_open, getsockopt(SO_PEERCRED), setgroups for a
 * child) is done by a few lines of perl: perl-base is Essential on Debian, and its Socket, POSIX and
 * Fcntl are all these helpers use. Scripts are our own constants; what the target controls reaches
 * them only as argv or stdin data, never as code. The environment is empty (no PERL5OPT, PERL5LIB).
 */

/** Whose rights a helper acts with: uid, gid and supplementary groups. */
export interface Credentials {
  uid: number;
  gid: number;
  groups: readonly number[];
}

/** Where perl is looked for, in order: Debian's, then NixOS's and a local one. */
const PERL_CANDIDATES = ['/usr/bin/perl', '/bin/perl', '/run/current-system/sw/bin/perl', '/usr/local/bin/perl'];

let found: string | null | undefined;

/**
 * The perl restartd runs its helpers with: the first candidate that is a file owned by root and not
 * writable by group or others (root must not run a program a user could replace). Undefined without one.
 */
export function perlPath(): string | undefined {
  if (found === undefined) found = PERL_CANDIDATES.find(isRootsProgram) ?? null;
  return found ?? undefined;
}

function isRootsProgram(path: string): boolean {
  const st = statSync(path, { throwIfNoEntry: false });
  return st !== undefined && st.isFile() && st.uid === 0 && (st.mode & 0o022) === 0;
}

/**
 * Perl source: `drop_to("uid:gid:g1,g2")` sets the supplementary groups, then gid, then uid (real,
 * effective and saved: root can't be taken back), and exits 14 when the kernel did not do all of it.
 * An empty string keeps the helper's own credentials.
 */
export const DROP_TO = `
use POSIX ();
sub drop_to {
  my ($as) = @_;
  return if $as eq '';
  my ($uid, $gid, $groups) = split /:/, $as, 3;
  my @groups = grep { length } split /,/, ($groups // '');
  $) = join ' ', $gid, $gid, @groups;
  POSIX::setgid($gid) or exit 14;
  POSIX::setuid($uid) or exit 14;
  exit 14 unless $< == $uid && $> == $uid && (split ' ', $()[0] == $gid && (split ' ', $))[0] == $gid;
}
`;

/** How the credentials travel in a helper's argv: "" when the helper keeps its own. */
export function credentialsArg(as: Credentials | undefined): string {
  return as === undefined ? '' : `${as.uid}:${as.gid}:${as.groups.join(',')}`;
}

/** The exit code a helper uses when it could not take on the credentials it was given. */
export const EXIT_CANNOT_DROP = 14;

/** perl's argv for a script and its arguments: `--` so no argument is taken for a perl switch. */
export function perlArgs(script: string, args: readonly string[]): string[] {
  return ['-e', script, '--', ...args];
}

/** What a helper run came to: its exit code (null when killed or not started) and its output. */
export interface HelperRun {
  code: number | null;
  stdout: Buffer;
  /** Set when it could not be run at all, or was stopped at its bound. */
  problem?: string;
}

export interface HelperOptions {
  input?: Buffer | string;
  timeoutMs: number;
  maxBytes: number;
  /** Another perl (tests). */
  perl?: string;
}

/** Runs a helper script to its end, bounded in time and output. Never throws. */
export function runPerl(script: string, args: readonly string[], options: HelperOptions): Promise<HelperRun> {
  const perl = options.perl ?? perlPath();
  if (perl === undefined) return Promise.resolve({ code: null, stdout: Buffer.alloc(0), problem: 'no perl (perl-base) to run the helper with' });
  return new Promise((resolve) => {
    const child = childProcess().execFile(perl, perlArgs(script, args), { env: {}, encoding: 'buffer', timeout: options.timeoutMs, maxBuffer: options.maxBytes, killSignal: 'SIGKILL' }, (error, stdout) => {
      const failure = error as (NodeJS.ErrnoException & { killed?: boolean; code?: unknown }) | null;
      if (failure === null) return resolve({ code: 0, stdout });
      if (typeof failure.code === 'number') return resolve({ code: failure.code, stdout });
      resolve({ code: null, stdout, problem: failure.killed === true ? `the helper did not finish within ${options.timeoutMs} ms` : `cannot run ${perl} (${String(failure.code ?? failure.message)})` });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** runPerl, synchronously: for the scan, which is synchronous. Never throws. */
export function runPerlSync(script: string, args: readonly string[], options: HelperOptions): HelperRun {
  const perl = options.perl ?? perlPath();
  if (perl === undefined) return { code: null, stdout: Buffer.alloc(0), problem: 'no perl (perl-base) to run the helper with' };
  const run = childProcess().spawnSync(perl, perlArgs(script, args), { env: {}, input: options.input ?? '', timeout: options.timeoutMs, maxBuffer: options.maxBytes, killSignal: 'SIGKILL', stdio: ['pipe', 'pipe', 'ignore'] });
  if (run.error !== undefined) {
    const code = (run.error as NodeJS.ErrnoException).code;
    return { code: null, stdout: run.stdout ?? Buffer.alloc(0), problem: code === 'ETIMEDOUT' ? `the helper did not finish within ${options.timeoutMs} ms` : `cannot run ${perl} (${code ?? run.error.message})` };
  }
  return { code: run.status, stdout: run.stdout };
}

/**
 * node:child_process, loaded when a helper first runs: its chunk is loaded by every command (it sits
 * with the typed events), and child_process brings net, dgram and the streams (~10 ms of start-up).
 */
function childProcess(): typeof import('node:child_process') {
  return process.getBuiltinModule('node:child_process');
}
