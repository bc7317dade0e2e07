import { constants } from 'node:os';
import { credentialsArg, DROP_TO, EXIT_CANNOT_DROP, runPerl, type Credentials } from '../as-user/perl-helper.js';
import { errnoName } from '../errors.js';
import { readIdentity } from './proc-identity.js';

/** What became of one signal: sent (and how), or why not. */
export type SignalResult =
  /** Sent. `pidfd`: identity check and signal held the same process; `kill`: checked, then kill(2). */
  | { kind: 'signalled'; via: 'pidfd' | 'kill'; note?: string }
  /** No process at that pid any more. */
  | { kind: 'gone' }
  /** The pid is another process now: a different start time (undefined: unreadable). */
  | { kind: 'reused'; startTime: number | undefined }
  /** The kernel refused, or the helper could not run: nothing was sent. */
  | { kind: 'failed'; reason: string };

/**
 * pidfd_open (434) and pidfd_send_signal (424): from Linux 5.1 every architecture numbers new
 * syscalls alike, MIPS adding its ABI's base (o32 4000, n64 5000) and alpha (no Node) apart. An arch
 * not listed gets no pidfd: its signals go by the checked kill.
 */
const SYSCALL_BASE: Record<string, number | undefined> = { x64: 0, ia32: 0, arm64: 0, arm: 0, riscv64: 0, loong64: 0, ppc64: 0, ppc: 0, s390x: 0, s390: 0, mips: 4000, mipsel: 4000, mips64el: 5000 };

function pidfdSyscalls(arch: string): { open: number; send: number } | undefined {
  const base = SYSCALL_BASE[arch];
  return base === undefined ? undefined : { open: base + 434, send: base + 424 };
}

// pidfd_open(pid) pins the process: if its start time is the expected one now, the signal sent through
// the pidfd reaches that process or none (ESRCH once it exits), whatever reuses the pid meanwhile.
// The credentials are dropped (to the registering user's) only after the pidfd and the stat are had,
// so the kernel's own kill rules apply to the send. Exit: 0 sent, 10 no pidfd_open (ENOSYS), 11 gone,
// 12 another start time (printed), 13 errno (printed), 14 cannot drop credentials.
const SIGNAL_HELPER = `${DROP_TO}
my ($pid, $start, $sig, $nr_open, $nr_send, $as) = @ARGV;
$| = 1;
my $fd = syscall($nr_open + 0, $pid + 0, 0);
if ($fd < 0) { exit 10 if $! == POSIX::ENOSYS(); exit 11 if $! == POSIX::ESRCH(); print $! + 0; exit 13 }
open(my $stat, '<', "/proc/$pid/stat") or exit 11;
my $text = do { local $/; <$stat> } // '';
close $stat;
my ($rest) = $text =~ /^.*\\) (.*)$/s;
my $now = defined $rest ? (split ' ', $rest)[19] : undef;
if (!defined $now || $now ne $start) { print $now // ''; exit 12 }
drop_to($as);
if (syscall($nr_send + 0, $fd + 0, $sig + 0, 0, 0) < 0) { exit 11 if $! == POSIX::ESRCH(); print $! + 0; exit 13 }
exit 0;
`;

export interface SignalOptions {
  /** Send with these credentials (the registering user's), not root's: only when running as root. */
  as?: Credentials | undefined;
  /** Other syscall numbers (tests: a number the kernel lacks stands for a kernel without pidfd). */
  syscalls?: { open: number; send: number };
}

/**
 * Sends `signal` to the process at `pid` only if it started at `startTime`: through a pidfd where the
 * kernel has one (check and signal are about one process, PID reuse can't slip between them), else by
 * a start-time check right before kill(2), and the result says so (`via: 'kill'`, with a note).
 * Never throws.
 */
export async function signalProcess(pid: number, startTime: number, signal: NodeJS.Signals, options: SignalOptions = {}): Promise<SignalResult> {
  const number = constants.signals[signal];
  const syscalls = options.syscalls ?? pidfdSyscalls(process.arch);
  if (syscalls === undefined) return checkedKill(pid, startTime, signal, `no pidfd syscall numbers for ${process.arch}`);
  const args = [String(pid), String(startTime), String(number), String(syscalls.open), String(syscalls.send), credentialsArg(options.as)];
  // The machine may be loaded: the helper has 15 s.
  const run = await runPerl(SIGNAL_HELPER, args, { timeoutMs: 15_000, maxBytes: 4096 });
  const printed = run.stdout.toString('latin1').trim();
  switch (run.code) {
    case 0:
      return { kind: 'signalled', via: 'pidfd' };
    case 10:
      return checkedKill(pid, startTime, signal, 'pidfd_open is not available (ENOSYS)');
    case 11:
      return { kind: 'gone' };
    case 12:
      return { kind: 'reused', startTime: /^\d+$/.test(printed) ? Number(printed) : undefined };
    case 13:
      return { kind: 'failed', reason: /^\d+$/.test(printed) ? errnoName(Number(printed)) : 'unknown error' };
    case EXIT_CANNOT_DROP:
      return { kind: 'failed', reason: `cannot take on uid ${options.as?.uid ?? '?'} to send it` };
    case null:
      if (run.problem?.startsWith('no perl') === true) return checkedKill(pid, startTime, signal, run.problem);
      return { kind: 'failed', reason: run.problem ?? 'the signal helper did not run' };
    default:
      return { kind: 'failed', reason: `the signal helper exited ${run.code}` };
  }
}

/** The fallback: the start time checked right before kill(2), as root (a narrow window for PID reuse). */
async function checkedKill(pid: number, startTime: number, signal: NodeJS.Signals, why: string): Promise<SignalResult> {
  const identity = await readIdentity(pid);
  if (identity === undefined) return { kind: 'gone' };
  if (identity.startTime !== startTime) return { kind: 'reused', startTime: identity.startTime };
  try {
    process.kill(pid, signal);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ESRCH' ? { kind: 'gone' } : { kind: 'failed', reason: code ?? String(error) };
  }
  return { kind: 'signalled', via: 'kill', note: `${why}: pid ${pid} was checked by start time, then signalled by kill` };
}
