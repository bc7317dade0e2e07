import type { RegistrationStatus } from '../types/aware.js';
import type { FleetStatus } from '../types/fleet.js';
import type { RunRollback, RunSummary, RunUnitResult } from '../types/runs.js';

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
  // A run without generations acted on the live scan (src/run/request.ts LIVE).
  const what = run.old === 'live' && run.new === 'live' ? 'the live system (no generations)' : `${run.old} -> ${run.new}`;
  const lines = [`${when} ${state}${run.attempts > 1 ? ` (${run.attempts} runs of this switch)` : ''}: ${what}`];
  if (run.done.length > 0) lines.push(`  done: ${units(run.done, false)}`);
  if (run.failed.length > 0) lines.push(`  failed: ${units(run.failed, true)}`);
  if (run.skipped.length > 0) lines.push(`  skipped: ${units(run.skipped, false)}`);
  if (run.done.length + run.failed.length + run.skipped.length === 0) lines.push('  nothing to do');
  if (run.rolledBack !== undefined) lines.push(`  ${rollbackState(run.rolledBack)}`);
  return lines;
}

function rollbackState(rb: RunRollback): string {
  const state = rb.state === 'unfinished' ? 'rolling back (interrupted; run it again to finish)' : rb.ok === true ? 'rolled back' : 'ROLLBACK FAILED';
  return `${state} to ${rb.to} (${rb.units.join(', ') || 'no units'}): ${rb.ok === false ? (rb.cause ?? rb.reason) : rb.reason}`;
}

/** The last runs from the journal, newest first. Pure. */
export function lastRunsSection(runs: readonly RunSummary[]): StatusSection {
  return { title: `last runs: ${runs.length}`, lines: runs.length === 0 ? ['none recorded'] : runs.flatMap(runLines) };
}

/** The switch deferred to the maintenance window, the slots a run waits for and holds. Pure. */
export function fleetSection(fleet: FleetStatus): StatusSection {
  const lines: string[] = [];
  if (fleet.deferred !== undefined) {
    const d = fleet.deferred;
    const what = d.old === 'live' && d.new === 'live' ? 'the live system' : `${d.old} -> ${d.new}`;
    lines.push(`deferred by ${d.command} at ${d.deferredAt}: ${what}, outside the maintenance window (${d.window}); it opens at ${d.nextWindowStart}`);
  }
  for (const w of fleet.waiting) {
    const held = w.holders.length === 0 ? 'all slots taken' : `held by ${w.holders.map((h) => `${h.host} (${h.unit})`).join(', ')}`;
    lines.push(`waiting since ${w.since}: ${w.unit} for a slot of group ${w.group}, ${held}`);
  }
  for (const h of fleet.holding) lines.push(`holding since ${h.since}: slot ${h.slot} of group ${h.group} for ${h.unit}`);
  const pending = (fleet.deferred === undefined ? 0 : 1) + fleet.waiting.length;
  return { title: `fleet: ${pending === 0 && fleet.holding.length === 0 ? 'nothing pending' : `${pending} pending, ${fleet.holding.length} slot${fleet.holding.length === 1 ? '' : 's'} held`}`, lines: lines.length === 0 ? ['no deferred switch, no slot waited for'] : lines };
}
