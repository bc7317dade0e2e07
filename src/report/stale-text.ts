import type { StaleReport } from './stale-json.js';
import { printableLines } from './printable.js';
import { groupByOwner } from './stale-json.js';

const MAX_FILES = 3;

/** The human report: a summary line, then one block per owner with its processes and evidence. */
export function renderStaleText(report: StaleReport): string {
  const lines: string[] = [];
  const g = report.generations;
  if (g) {
    const c = g.counts;
    lines.push(`generations: ${g.old.path} -> ${g.new.path} (${g.new.source})`);
    lines.push(
      `  ${c.changed} changed, ${c.removed} removed, ${c.added} added, ${c.unchanged} unchanged` +
        (c.leftGeneration > 0 ? `, ${c.leftGeneration} store paths left the generation` : ''),
    );
  }
  const s = report.scanned;
  const groups = groupByOwner(report.stale);
  lines.push(
    `scanned ${s.processes} processes in ${(s.durationMs / 1000).toFixed(2)} s: ` +
      (report.stale.length === 0
        ? 'no stale processes'
        : `${report.stale.length} stale process${report.stale.length === 1 ? '' : 'es'} in ${groups.length} owner${groups.length === 1 ? '' : 's'}`),
  );
  if (s.unreadable > 0) {
    const byPid = new Map<number, string[]>();
    for (const u of report.unreadable) byPid.set(u.pid, [...(byPid.get(u.pid) ?? []), `${u.what}: ${u.code}`]);
    const shown = [...byPid].slice(0, 5).map(([pid, what]) => `pid ${pid} (${what.join(', ')})`);
    const more = byPid.size > shown.length ? `, and ${byPid.size - shown.length} more` : '';
    const denied = report.unreadable.some((u) => u.code === 'EACCES' || u.code === 'EPERM');
    lines.push(
      `warning: ${byPid.size} process${byPid.size === 1 ? '' : 'es'} could not be read fully: ${shown.join(', ')}${more}` +
        (denied ? ' (permission denied: another user\'s process when not root, or another namespace\'s)' : ''),
    );
  }
  const interp = report.interp;
  if (interp && (interp.capped.length > 0 || interp.budgetExceeded)) {
    lines.push(
      `warning: interpreted programs examined only in part (${interp.capped.length > 0 ? `file cap hit for pid ${interp.capped.join(', ')}` : ''}` +
        `${interp.capped.length > 0 && interp.budgetExceeded ? '; ' : ''}${interp.budgetExceeded ? 'time budget exceeded' : ''})`,
    );
  }
  for (const group of groups) {
    lines.push('', `${group.name} (${group.kind}) — ${group.processes.length} process${group.processes.length === 1 ? '' : 'es'}`);
    for (const p of group.processes) {
      lines.push(`  ${String(p.pid).padStart(7)}  ${p.comm}${p.exe ? `  ${p.exe}` : ''}`);
      for (const f of p.files.slice(0, MAX_FILES)) lines.push(`           ${f.kind.padEnd(15)} ${f.path}`);
      if (p.files.length > MAX_FILES) lines.push(`           … and ${p.files.length - MAX_FILES} more files`);
    }
  }
  return printableLines(lines);
}
