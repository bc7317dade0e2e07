import { NO_PROGRAM, script } from './program.js';
import type { Program } from '../types/interp.js';

/** Short options that take a value: attached (`-Wignore`) or the next argument (`-W ignore`). */
const VALUED = new Set(['W', 'X', 'Q']);
const VALUED_LONG = new Set(['--check-hash-based-pycs']);

/**
 * python [option] ... [-c cmd | -m mod | file | -] [arg] ...
 * Options combine (`-uBm pkg`); `-c` and `-m` end the options and take the rest of the
 * argument or the next one.
 */
export function pythonProgram(args: readonly string[]): Program {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') return args[i + 1] === undefined ? NO_PROGRAM.interactive : script(args[i + 1] as string);
    if (arg === '-') return NO_PROGRAM.stdin;
    if (arg.startsWith('--')) {
      if (VALUED_LONG.has(arg)) i++;
      continue;
    }
    if (!arg.startsWith('-')) return script(arg);
    for (let j = 1; j < arg.length; j++) {
      const c = arg[j] as string;
      if (c === 'c' || c === 'm' || VALUED.has(c)) {
        const attached = arg.slice(j + 1);
        const value = attached === '' ? args[++i] : attached;
        if (c === 'c') return NO_PROGRAM.inlineCode;
        if (c === 'm') return value === undefined || value === '' ? NO_PROGRAM.badArgs : { kind: 'module', name: value };
        break;
      }
    }
  }
  return NO_PROGRAM.interactive;
}
