import { NO_PROGRAM, script } from './program.js';
import type { Program } from '../types/interp.js';

/** Switches whose value is the rest of the argument (possibly empty): -i.bak, -x/dir, -d:Trace, -Dflags, -C7, -F/:/, -V:name. */
const REST_OF_ARG = new Set(['i', 'x', 'd', 'D', 'C', 'F', 'V']);

/**
 * perl [switches] [--] [programfile] [arguments]. Switches cluster (`-wle CODE`); -e/-E take the
 * rest or the next argument and mean there is no program file; -I takes the rest or the next;
 * -M/-m need an attached module; -l and -0 take attached digits.
 */
export function perlProgram(args: readonly string[]): Program {
  let inline = false;
  const libDirs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      const next = args[i + 1];
      return inline ? NO_PROGRAM.inlineCode : next === undefined ? NO_PROGRAM.stdin : script(next, { libDirs });
    }
    if (arg === '-') return inline ? NO_PROGRAM.inlineCode : NO_PROGRAM.stdin;
    if (!arg.startsWith('-')) return inline ? NO_PROGRAM.inlineCode : script(arg, { libDirs });
    for (let j = 1; j < arg.length; j++) {
      const c = arg[j] as string;
      const rest = arg.slice(j + 1);
      if (c === 'e' || c === 'E' || c === 'I') {
        const value = rest === '' ? args[++i] : rest;
        if (value === undefined) return NO_PROGRAM.badArgs;
        if (c === 'I') libDirs.push(value);
        else inline = true;
        break;
      }
      if (c === 'M' || c === 'm') {
        if (rest === '') return NO_PROGRAM.badArgs;
        break;
      }
      if (REST_OF_ARG.has(c)) break;
      if (c === 'l') j += /^[0-7]*/.exec(rest)?.[0].length ?? 0;
      else if (c === '0') j += /^(?:x[0-9a-fA-F]+|[0-7]*)/.exec(rest)?.[0].length ?? 0;
    }
  }
  return inline ? NO_PROGRAM.inlineCode : NO_PROGRAM.stdin;
}
