import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import type { StaleProcess } from '../types/stale.js';
import { readJsonFile, writeFileDurably } from '../journal/durable-file.js';
import { SWITCHES_DIR } from '../journal/state-dir.js';
import { SwitchJournal } from '../journal/switch-journal.js';
import { LIVE } from './request.js';

// switches/live-<hash>/evidence.json: what was stale when the run began.
const EVIDENCE_FILE = 'evidence.json';
const LIVE_PREFIX = 'live-';

const EvidenceSchema = z.object({ version: z.literal(1), createdAt: z.string(), files: z.array(z.string()) });

/** One line per stale file: what it is and what is on disk now, so a later upgrade is told apart. */
export function evidenceOf(stale: readonly StaleProcess[]): string[] {
  const lines = new Set<string>();
  for (const process of stale) {
    for (const file of process.files) {
      const now = file.new === undefined ? 'gone' : `${file.new.path ?? ''}@${file.new.dev ?? ''}:${file.new.ino ?? ''}`;
      lines.add(`${file.kind}|${file.path}|${now}|${file.changedAt ?? ''}`);
    }
  }
  return [...lines].sort();
}

/**
 * The journal of a run on the live scan (no generations to key it). Under the state lock. An
 * unfinished live run whose evidence covers everything stale now is resumed (a re-run after a
 * crash: the units it restarted are clean, the rest are the same upgrade's); anything stale that it
 * did not know of (a later upgrade) makes a new run, and the older unfinished one is closed.
 */
export function openLiveJournal(stateDir: string, stale: readonly StaleProcess[], retry: boolean): SwitchJournal {
  const now = evidenceOf(stale);
  const dir = join(stateDir, SWITCHES_DIR);
  const unfinished: { journal: SwitchJournal; files: Set<string>; createdAt: string }[] = [];
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    if (!name.startsWith(LIVE_PREFIX)) continue;
    const evidence = EvidenceSchema.safeParse(readJsonFile(join(dir, name, EVIDENCE_FILE)));
    if (!evidence.success) continue;
    const journal = new SwitchJournal(stateDir, LIVE, LIVE, retry, name);
    if (journal.resuming) unfinished.push({ journal, files: new Set(evidence.data.files), createdAt: evidence.data.createdAt });
  }
  unfinished.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const covering = unfinished.find((run) => now.every((line) => run.files.has(line)));
  for (const run of unfinished) if (run !== covering) run.journal.finish([]);
  if (covering !== undefined) return covering.journal;
  const createdAt = new Date().toISOString();
  const key = `${LIVE_PREFIX}${createHash('sha256').update(`${createdAt}\0${randomUUID()}\0${now.join('\n')}`).digest('hex').slice(0, 27)}`;
  const journal = new SwitchJournal(stateDir, LIVE, LIVE, retry, key);
  writeFileDurably(join(journal.dir, EVIDENCE_FILE), `${JSON.stringify({ version: 1, createdAt, files: now })}\n`);
  return journal;
}
