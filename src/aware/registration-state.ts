import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import { readJsonFile, writeFileDurably } from '../journal/durable-file.js';
import type { RegistrationState } from '../types/aware.js';

const StateSchema = z.object({
  file: z.string(),
  lastNotification: z
    .object({ at: z.string(), oldGeneration: z.string().nullable(), newGeneration: z.string().nullable(), files: z.number() })
    .optional(),
  lastAnswer: z.object({ at: z.string(), result: z.string(), reason: z.string().optional() }).optional(),
});

function statePath(stateDir: string, file: string): string {
  return join(stateDir, `${createHash('sha256').update(file).digest('hex').slice(0, 24)}.json`);
}

/** What restartd last did with the registration at `file`, or just `{ file }`. */
export async function readRegistrationState(stateDir: string, file: string): Promise<RegistrationState> {
  try {
    const parsed = StateSchema.safeParse(readJsonFile(statePath(stateDir, file)));
    if (parsed.success && parsed.data.file === file) return parsed.data as RegistrationState;
  } catch {
    // No state yet, or unreadable: nothing remembered.
  }
  return { file };
}

/** Records a notification and its answer (a durable replace, never through a planted link). Best effort: returns false on failure. */
export async function writeRegistrationState(stateDir: string, state: RegistrationState): Promise<boolean> {
  const path = statePath(stateDir, state.file);
  try {
    await mkdir(stateDir, { recursive: true, mode: 0o755 });
    writeFileDurably(path, `${JSON.stringify(state)}\n`);
    return true;
  } catch {
    return false;
  }
}
