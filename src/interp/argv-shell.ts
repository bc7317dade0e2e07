import { NO_PROGRAM, script } from './program.js';
import type { Program } from '../types/interp.js';

/** bash's long options that take the next argument. */
const VALUED_LONG = new Set(['--rcfile', '--init-file']);

/**
 * sh/bash/dash/zsh/ksh [options] [script [args]]. Options start with - or + and cluster
 * (`-euo pipefail`); -o/-O take the next argument; -c means the command is inline; -s reads
 * stdin; `-` and `--` end the options.
 */
export function shellProgram(args: readonly string[]): Program {
  let inline = false;
  let stdin = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    let candidate: string | undefined = arg;
    if (arg === '--' || arg === '-') candidate = args[i + 1];
    else if (arg.startsWith('--')) {
      if (VALUED_LONG.has(arg)) i++;
      continue;
    } else if (arg.length > 1 && (arg.startsWith('-') || arg.startsWith('+'))) {
      for (const c of arg.slice(1)) {
        if (c === 'c') inline = true;
        else if (c === 's') stdin = true;
        else if (c === 'o' || c === 'O') i++;
      }
      continue;
    }
    if (inline) return NO_PROGRAM.inlineCode;
    if (stdin || candidate === undefined) return stdin ? NO_PROGRAM.stdin : NO_PROGRAM.interactive;
    return script(candidate);
  }
  return inline ? NO_PROGRAM.inlineCode : stdin ? NO_PROGRAM.stdin : NO_PROGRAM.interactive;
}
