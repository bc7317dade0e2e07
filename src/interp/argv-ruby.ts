import { NO_PROGRAM, script } from './program.js';
import type { Program } from '../types/interp.js';

/** Short switches whose value is the rest of the argument or, when empty, the next one. */
const VALUED = new Set(['e', 'I', 'r', 'C', 'E']);
/** Short switches whose value is only ever attached: -x[dir], -F pattern, -K code, -0[octal], -T[level], -W[level]. */
const REST_OF_ARG = new Set(['x', 'F', 'K', '0', 'T', 'W']);
const VALUED_LONG = new Set(['--enable', '--disable', '--encoding', '--external-encoding', '--internal-encoding', '--dump', '--backtrace-limit', '--crash-report']);

/**
 * ruby [switches] [--] [programfile] [arguments]. -e means no program file; -I dirs are load
 * paths. -C changes directory before the program file is opened, so a relative program path is
 * relative to the cwd /proc shows afterwards.
 */
export function rubyProgram(args: readonly string[]): Program {
  let inline = false;
  const libDirs: string[] = [];
  const found = (path: string): Program => script(path, { libDirs });
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      const next = args[i + 1];
      return inline ? NO_PROGRAM.inlineCode : next === undefined ? NO_PROGRAM.stdin : found(next);
    }
    if (arg === '-') return inline ? NO_PROGRAM.inlineCode : NO_PROGRAM.stdin;
    if (arg.startsWith('--')) {
      if (VALUED_LONG.has(arg)) i++;
      continue;
    }
    if (!arg.startsWith('-')) return inline ? NO_PROGRAM.inlineCode : found(arg);
    for (let j = 1; j < arg.length; j++) {
      const c = arg[j] as string;
      if (VALUED.has(c)) {
        const rest = arg.slice(j + 1);
        const value = rest === '' ? args[++i] : rest;
        if (value === undefined) return NO_PROGRAM.badArgs;
        if (c === 'e') inline = true;
        else if (c === 'I') libDirs.push(value);
        break;
      }
      if (REST_OF_ARG.has(c)) break;
    }
  }
  return inline ? NO_PROGRAM.inlineCode : NO_PROGRAM.stdin;
}
