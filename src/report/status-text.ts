import { describeRebootReason } from '../status/reboot-tier.js';
import type { InstalledSource, RebootTier } from '../types/status.js';
import { printableLines } from './printable.js';
import type { StatusReport } from './status-json.js';
import { renderStaleText } from './stale-text.js';

export interface StatusTextOptions {
  /** ANSI colour for the verdict (the CLI turns it on only on a TTY without NO_COLOR). */
  colour?: boolean;
  /** Extra sections (registrations, last runs), printed after the generations, before the stale processes. */
  sections?: ReadonlyArray<{ title: string; lines: readonly string[] }>;
  /** The scan could not see others' processes (not root): "nothing to restart" would be a guess. */
  blind?: boolean;
}

const BLIND = { text: 'UNKNOWN: cannot tell, not run as root (others\' processes could not be read): run as root', colour: '35' };

const VERDICT: Record<RebootTier, { text: string; colour: string }> = {
  none: { text: 'up to date: nothing to restart', colour: '32' },
  restarts: { text: 'restarts needed', colour: '33' },
  'daemon-reexec': { text: 'PID 1 needs a daemon-reexec (systemctl daemon-reexec)', colour: '33' },
  'soft-reboot': { text: 'soft-reboot needed (systemctl soft-reboot; the kernel is current)', colour: '31' },
  reboot: { text: 'reboot needed', colour: '31;1' },
};

/** Bytes for people: 1024-based, one decimal from KiB up. Pure. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function renderSource(source: InstalledSource): string[] {
  const lines = [`${source.path} (${source.kind}): ${source.generations.length} generation${source.generations.length === 1 ? '' : 's'}`];
  for (const g of source.generations) {
    const marks = [g.current ? 'current' : '', g.booted ? 'booted' : ''].filter((m) => m !== '').join(', ');
    const head = `  ${g.name.padEnd(12)} ${marks === '' ? '' : `[${marks}] `}`;
    if (g.error !== undefined) {
      lines.push(`${head}unreadable (${g.error})`);
      continue;
    }
    const parts: string[] = [];
    if (g.bytes !== undefined) parts.push(`${formatBytes(g.bytes)}`);
    if (!g.current && g.uniqueBytes !== undefined) parts.push(`${formatBytes(g.uniqueBytes)} unique`);
    if (!g.current && g.sharedWithCurrentBytes !== undefined) parts.push(`${formatBytes(g.sharedWithCurrentBytes)} shared with current`);
    if (!g.current && g.storePathsNotInCurrent !== undefined) parts.push(`${g.storePathsNotInCurrent} store paths not in current`);
    lines.push(`${head}${parts.join(', ')}`.trimEnd());
  }
  if (source.reclaimableBytes !== undefined && source.generations.length > 1) {
    lines.push(`  the other generations take ${formatBytes(source.reclaimableBytes)} more than the current one`);
  }
  return lines;
}

/** The human `restartd status` report: the verdict and why, generations, then the stale processes. Pure. */
export function renderStatusText(report: StatusReport, options: StatusTextOptions = {}): string {
  const verdict = options.blind === true && report.reboot.tier === 'none' ? BLIND : VERDICT[report.reboot.tier];
  const paint = (text: string) => (options.colour ? `\x1b[${verdict.colour}m${text}\x1b[0m` : text);
  // The verdict line carries the colour; every other line is made printable.
  const lines: string[] = [];
  for (const reason of report.reboot.reasons) lines.push(`  - ${describeRebootReason(reason)}`);
  // The verdict is only as wide as the scan: say so next to it (not root: most processes unreadable).
  const unread = new Set(report.unreadable.map((u) => u.pid)).size;
  if (unread > 0) lines.push(`  ! ${unread} process${unread === 1 ? '' : 'es'} could not be read fully (see the warning below): the verdict covers the rest`);
  const k = report.reboot.kernel;
  lines.push(`kernel: ${k.running ?? 'unknown'} running, ${k.newest === undefined ? 'no installed kernel found' : `newest installed ${k.newest}`}`);
  for (const source of report.installed ?? []) lines.push('', ...renderSource(source));
  for (const section of options.sections ?? []) lines.push('', section.title, ...section.lines.map((line) => `  ${line}`));
  return `status: ${paint(verdict.text)}\n${printableLines(lines)}\n${renderStaleText(report)}`;
}
