import type { PlannedAction } from '../types/plan.js';
import type { StaleProcess } from '../types/stale.js';
import type { KernelFacts, RebootDecision, RebootReason, RebootTier, SystemPiece } from '../types/status.js';

// Matched against the basename of a stale file; Nix store paths (`…-glibc-2.39/lib/libc.so.6`) match too.
const PIECES: ReadonlyArray<readonly [SystemPiece, RegExp]> = [
  ['dynamic-loader', /^(?:ld-linux[^/]*\.so(?:\.\d+)*|ld-\d[\d.]*\.so|ld\.so(?:\.\d+)*|ld-musl-[^/]+\.so\.\d+)$/],
  ['libc', /^(?:libc(?:-[\d.]+)?\.so(?:\.\d+)*|libc\.musl-[^/]+\.so\.\d+)$/],
  ['libsystemd', /^(?:libsystemd\.so(?:\.\d+)*|libsystemd-(?:shared|core)-[^/]+\.so)$/],
  ['dbus', /^(?:dbus-daemon|dbus-broker|dbus-broker-launch|libdbus-1\.so(?:\.\d+)*)$/],
  // A user manager (`systemd --user`) running old code: restarting user@ ends the session.
  ['systemd', /^systemd$/],
];

const TIER_ORDER: readonly RebootTier[] = ['none', 'restarts', 'daemon-reexec', 'soft-reboot', 'reboot'];

/** The system-wide piece a file is, if any. Pure. */
export function systemPieceOf(path: string): SystemPiece | undefined {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return PIECES.find(([, pattern]) => pattern.test(base))?.[0];
}

/**
 * Orders kernel releases like `sort -V`: numeric runs compare as numbers, the rest as text
 * (`6.1.0-13-amd64` < `6.1.0-18-amd64` < `6.10.2`). Pure.
 */
export function compareKernelReleases(a: string, b: string): number {
  const split = (s: string) => s.match(/\d+|\D+/g) ?? [];
  const pa = split(a);
  const pb = split(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined || y === undefined) return x === undefined ? (y === undefined ? 0 : -1) : 1;
    const nx = /^\d/.test(x);
    const ny = /^\d/.test(y);
    if (nx && ny) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
    } else if (x !== y) {
      // A number sorts after text (`6.1.0` after `6.1-rc`), text by code point.
      if (nx !== ny) return nx ? 1 : -1;
      return x < y ? -1 : 1;
    }
  }
  return 0;
}

function kernelStatus(kernel: KernelFacts): { status: RebootDecision['kernel']; reason?: RebootReason } {
  const running = kernel.running;
  let newest: { release: string; from: string } | undefined;
  for (const k of kernel.installed) if (!newest || compareKernelReleases(k.release, newest.release) > 0) newest = k;
  if (running === undefined || newest === undefined) {
    return { status: { status: 'unknown', ...(running === undefined ? {} : { running }), ...(newest ? { newest: newest.release } : {}) } };
  }
  // Only a newer kernel means a reboot: a running kernel newer than every installed one (a custom
  // or network-booted kernel) has nothing to switch to.
  if (compareKernelReleases(newest.release, running) > 0) {
    return {
      status: { status: 'changed', running, newest: newest.release },
      reason: { code: 'kernel-changed', running, newest: newest.release, from: newest.from },
    };
  }
  return { status: { status: 'unchanged', running, newest: newest.release } };
}

/**
 * What it takes to get the machine onto its installed files, and why. Pure: the stale processes
 * (from detectStale) and the kernel facts decide. PID 1's own stale files ask only for a
 * daemon-reexec; the same pieces held by other processes ask for a soft-reboot. With the plan's
 * `actions`, the tier is what the plan will do: processes whose owner the plan leaves for a reboot
 * (reboot-hint, a protected unit) ask for a soft-reboot, not restarts no apply would run.
 */
export function decideReboot(stale: readonly StaleProcess[], kernel: KernelFacts, actions: readonly PlannedAction[] = []): RebootDecision {
  const reasons: RebootReason[] = [];
  const { status, reason } = kernelStatus(kernel);
  let tier: RebootTier = 'none';
  const raise = (t: RebootTier) => {
    if (TIER_ORDER.indexOf(t) > TIER_ORDER.indexOf(tier)) tier = t;
  };
  if (reason) {
    reasons.push(reason);
    raise('reboot');
  }
  const pieces = new Map<SystemPiece, { pids: Set<number>; files: Set<string> }>();
  for (const p of stale) {
    if (p.owner.kind === 'pid1') {
      reasons.push({ code: 'pid1-stale', pid: p.pid, files: [...new Set(p.files.map((f) => f.path))].sort() });
      raise('daemon-reexec');
      continue;
    }
    for (const f of p.files) {
      const piece = systemPieceOf(f.path);
      if (piece === undefined) continue;
      let entry = pieces.get(piece);
      if (!entry) pieces.set(piece, (entry = { pids: new Set(), files: new Set() }));
      entry.pids.add(p.pid);
      entry.files.add(f.path);
    }
  }
  for (const [piece, entry] of [...pieces].sort(([a], [b]) => a.localeCompare(b))) {
    reasons.push({ code: 'system-wide-stale', piece, pids: [...entry.pids].sort((a, b) => a - b), files: [...entry.files].sort() });
    raise('soft-reboot');
  }
  const leftForReboot = ownersLeftForReboot(actions);
  const held = stale.filter((p) => p.owner.kind !== 'pid1' && leftForReboot.has(p.pid));
  if (held.length > 0) {
    const owners = new Map(held.map((p) => [leftForReboot.get(p.pid)?.name ?? '', leftForReboot.get(p.pid)?.action ?? 'reboot-hint'] as const));
    reasons.push({ code: 'owners-need-reboot', owners: [...owners].sort(([a], [b]) => a.localeCompare(b)).map(([name, action]) => ({ name, action })), processes: held.length });
    raise('soft-reboot');
  }
  const others = stale.filter((p) => p.owner.kind !== 'pid1' && !leftForReboot.has(p.pid));
  if (others.length > 0) {
    const owners = new Set(others.map((p) => `${p.owner.kind}\0${p.owner.name}`)).size;
    reasons.push({ code: 'processes-stale', processes: others.length, owners });
    raise('restarts');
  }
  return { tier, reasons, kernel: status };
}

/** pid → the owner the plan leaves for a reboot (reboot-hint, or skipped as a protected unit). */
function ownersLeftForReboot(actions: readonly PlannedAction[]): Map<number, { name: string; action: 'reboot-hint' | 'protected-unit' }> {
  const byPid = new Map<number, { name: string; action: 'reboot-hint' | 'protected-unit' }>();
  for (const a of actions) {
    const action = a.action === 'reboot-hint' ? 'reboot-hint' : a.action === 'skip' && a.reason === 'protected-unit' ? 'protected-unit' : undefined;
    if (action === undefined) continue;
    for (const pid of a.pids) byPid.set(pid, { name: a.unit ?? a.owner.name, action });
  }
  return byPid;
}

/** One line per reason, for people. Pure. */
export function describeRebootReason(reason: RebootReason): string {
  switch (reason.code) {
    case 'kernel-changed':
      return `kernel ${reason.newest} is installed (${reason.from}), ${reason.running} is running`;
    case 'pid1-stale':
      return `PID 1 holds ${reason.files.length} old file${reason.files.length === 1 ? '' : 's'} (${reason.files.slice(0, 2).join(', ')}${reason.files.length > 2 ? ', …' : ''})`;
    case 'system-wide-stale':
      return `${reason.piece} is stale in ${reason.pids.length} process${reason.pids.length === 1 ? '' : 'es'} (${reason.files.slice(0, 2).join(', ')}${reason.files.length > 2 ? ', …' : ''})`;
    case 'processes-stale':
      return `${reason.processes} stale process${reason.processes === 1 ? '' : 'es'} in ${reason.owners} owner${reason.owners === 1 ? '' : 's'}`;
    case 'owners-need-reboot':
      return `${reason.owners.map((o) => `${o.name} (${o.action})`).join(', ')}: left for a reboot by the plan, no apply restarts ${reason.owners.length === 1 ? 'it' : 'them'}`;
  }
}

/**
 * Nagios levels for `restartd status`: 0 OK, 1 restarts or a daemon-reexec needed (WARNING), 2 a
 * reboot or soft-reboot needed (CRITICAL). The tier says it all: any stale process raises it. Pure.
 */
export function statusExitCode(reboot: RebootDecision): 0 | 1 | 2 {
  if (reboot.tier === 'reboot' || reboot.tier === 'soft-reboot') return 2;
  return reboot.tier === 'none' ? 0 : 1;
}
