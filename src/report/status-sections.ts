import type { RegistrationStatus } from '../aware/types.js';
import type { RunSummary, RunUnitResult } from '../journal/last-runs.js';

/** A titled block of the human status report (see renderStatusText's `sections`). */
export interface StatusSection {
  title: string;
  lines: string[];
}

function registrationLine(r: RegistrationStatus): string {
  if (!r.valid) return `${r.file}: ignored: ${r.problem ?? 'invalid'}`;
  const head = `pid ${r.pid ?? '?'} ${r.name ?? '?'} (${r.via ?? '?'}) ${r.alive ? 'alive' : 'dead'}`;
  const parts = [head];
  if (r.problem !== undefined) parts.push(`not honoured: ${r.problem}`);
  if (r.lastNotification !== undefined) parts.push(`last told ${r.lastNotification.at}`);
  if (r.lastAnswer !== undefined) parts.push(`answered ${r.lastAnswer.result}${r.lastAnswer.reason === undefined ? '' : ` (${r.lastAnswer.reason})`}`);
  return parts.join(', ');
}

/** The update-aware registrations, valid or why not, alive or dead, last told and answer. Pure. */
export function registrationsSection(registrations: readonly RegistrationStatus[]): StatusSection {
  return {
    title: `update-aware apps: ${registrations.filter((r) => r.valid).length} registered${registrations.some((r) => !r.valid) ? `, ${registrations.filter((r) => !r.valid).length} ignored` : ''}`,
    lines: registrations.length === 0 ? ['none'] : registrations.map(registrationLine),
  };
}

function units(results: readonly RunUnitResult[], withCause: boolean): string {
  return results.map((r) => `${r.unit} (${r.action}${withCause && r.code !== undefined ? `: ${r.code}` : ''})`).join(', ');
}

function runLines(run: RunSummary): string[] {
  const when = run.finishedAt ?? run.startedAt;
  const state = run.state === 'finished' ? 'finished' : 'unfinished (run it again to finish)';
  const lines = [`${when} ${state}${run.attempts > 1 ? ` (${run.attempts} runs of this switch)` : ''}: ${run.old} -> ${run.new}`];
  if (run.done.length > 0) lines.push(`  done: ${units(run.done, false)}`);
  if (run.failed.length > 0) lines.push(`  failed: ${units(run.failed, true)}`);
  if (run.skipped.length > 0) lines.push(`  skipped: ${units(run.skipped, false)}`);
  if (run.done.length + run.failed.length + run.skipped.length === 0) lines.push('  nothing to do');
  return lines;
}

/** The last runs from the journal, newest first. Pure. */
export function lastRunsSection(runs: readonly RunSummary[]): StatusSection {
  return { title: `last runs: ${runs.length}`, lines: runs.length === 0 ? ['none recorded'] : runs.flatMap(runLines) };
}
