import type { Program } from '../types/interp.js';

type ScriptProgram = Extract<Program, { kind: 'script' }>;

/** A script, with what else the command line named. */
export function script(path: string, extra: Partial<Omit<ScriptProgram, 'kind' | 'path'>> = {}): ScriptProgram {
  return { kind: 'script', path, libDirs: extra.libDirs ?? [], preloads: extra.preloads ?? [] };
}

/** The ways an interpreter runs no program file. */
export const NO_PROGRAM = {
  inlineCode: { kind: 'none', reason: 'inline-code' },
  stdin: { kind: 'none', reason: 'stdin' },
  interactive: { kind: 'none', reason: 'interactive' },
  badArgs: { kind: 'none', reason: 'bad-args' },
} as const satisfies Record<string, Program>;
