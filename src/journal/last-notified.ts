import { join } from 'node:path';
import type { UserNotified } from '../types/aware.js';
import { readJsonFile, readJsonLines } from './durable-file.js';
import { JOURNAL_LINES_FILE, JOURNAL_PLAN_FILE, journalLines, JournalPlanSchema } from './journal-records.js';
import { journalsByRecency } from './last-runs.js';

/** How many of the latest journals are looked through for what users were told. */
const JOURNALS_READ = 20;

/**
 * What each user was last told (by uid): when, on which channels, the text, and the switch it was
 * for, from the newest journals of the state dir. A journal that is not restartd's is left out.
 */
export function lastNotified(stateDir: string): Map<number, UserNotified> {
  const found = new Map<number, UserNotified>();
  for (const dir of journalsByRecency(stateDir).slice(0, JOURNALS_READ)) {
    let lines;
    let plan;
    try {
      plan = JournalPlanSchema.safeParse(readJsonFile(join(dir, JOURNAL_PLAN_FILE)));
      lines = journalLines(readJsonLines(join(dir, JOURNAL_LINES_FILE)));
    } catch {
      continue;
    }
    if (!plan.success) continue;
    const latest = new Map<number, UserNotified>();
    for (const line of lines) {
      if (line.type === 'notified') latest.set(line.uid, { at: line.at, channels: line.channels, old: plan.data.old, new: plan.data.new, text: line.text });
    }
    for (const [uid, notified] of latest) if (!found.has(uid)) found.set(uid, notified);
  }
  return found;
}
