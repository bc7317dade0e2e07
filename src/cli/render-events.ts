import type { EventEmitter } from 'eventemitter3';
import { actionStartLine, doneLine, managerStepLine, verifyLine } from '../report/outcome-text.js';
import { fleetAcquiredLine, fleetDelayLine, fleetReleasedLine, fleetWaitingLine } from '../fleet/fleet-text.js';
import { printable } from '../report/printable.js';
import { rollbackBegunLine, rollbackFlippedLine } from '../report/rollback-text.js';
import type { RunEvents } from '../run/events.js';
import type { UserNotice } from '../types/aware.js';
import type { CliIO } from './io.js';

export interface RenderOptions {
  /** Only warnings (on stderr): the result is printed as one JSON object. */
  json?: boolean;
  /** Every step as it happens (apply); otherwise the outcomes and fleet lines (hook, watch). */
  steps?: boolean;
  dryRun?: boolean;
}

/**
 * Prints a run's events as lines as they happen; warnings go to stderr. Every line is made
 * printable: unit names, paths and causes come from the system.
 */
export function renderRunEvents(events: EventEmitter<RunEvents>, io: CliIO, options: RenderOptions = {}): void {
  const say = (line: string): void => io.out(`${printable(line)}\n`);
  const warn = (line: string): void => io.err(`restartd: warning: ${printable(line)}\n`);
  events.on('warning', (message) => warn(message));
  events.on('aware:skipped', (file, reason) => warn(`update-aware registration ${file} ignored: ${reason}`));
  if (options.json === true) return;
  events.on('fleet:delay', (ms) => say(fleetDelayLine(ms)));
  events.on('fleet:waiting', (group, action, holders) => say(fleetWaitingLine(group, action, holders)));
  events.on('fleet:acquired', (group, action, hold) => say(fleetAcquiredLine(group, action, hold)));
  events.on('fleet:released', (group, action, hold) => say(fleetReleasedLine(group, action, hold)));
  // A failure may bring the first lines its unit logged: each is a line of its own.
  events.on('action:done', (outcome) => doneLine(outcome).split('\n').forEach(say));
  events.on('rollback:begun', (intent) => say(rollbackBegunLine(intent)));
  events.on('rollback:flipped', (_link, _target, intent) => say(rollbackFlippedLine(intent)));
  events.on('user:notified', (notice) => say(toldLine(notice)));
  if (options.steps !== true) return;
  events.on('aware:delivered', (target, via) => say(`told ${target.name} (pid ${target.pid}) by ${via}`));
  events.on('aware:answered', (target, answer) => say(`${target.name} (pid ${target.pid}) answered ${answer.answer}`));
  events.on('aware:timeout', (target) => say(`${target.name} (pid ${target.pid}) did not answer in time`));
  events.on('aware:fallback', (target, fallback, because) => say(`${target.name} (pid ${target.pid}): ${because}; fallback ${fallback}`));
  if (options.dryRun !== true) events.on('action:start', (action) => say(actionStartLine(action)));
  events.on('manager:done', (step) => say(managerStepLine(step)));
  events.on('verify:done', (outcome) => {
    const line = verifyLine(outcome);
    if (line !== undefined) say(line);
  });
}

/** Whom restartd told about their programs left running, and where. */
function toldLine(notice: UserNotice): string {
  const programs = `${notice.pids.length} program${notice.pids.length === 1 ? '' : 's'}`;
  const where = [
    ...(notice.terminals.length === 0 ? [] : [`on ${notice.terminals.join(', ')}`]),
    ...(notice.channels.includes('desktop') ? ['by a desktop notification'] : []),
  ];
  return `told ${notice.name ?? `uid ${notice.uid}`} about ${programs} left running${where.length === 0 ? ' (no terminal or desktop reached)' : ` ${where.join(' and ')}`}`;
}
