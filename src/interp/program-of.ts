import { nodeProgram } from './argv-node.js';
import { perlProgram } from './argv-perl.js';
import { pythonProgram } from './argv-python.js';
import { rubyProgram } from './argv-ruby.js';
import { shellProgram } from './argv-shell.js';
import { NO_PROGRAM } from './program.js';
import type { InterpreterFamily, Program } from '../types/interp.js';

const PARSERS: Record<InterpreterFamily, (args: readonly string[]) => Program> = {
  python: pythonProgram,
  perl: perlProgram,
  ruby: rubyProgram,
  node: nodeProgram,
  shell: shellProgram,
};

/** A "program file" that is a pipe or another process's fd: `bash <(...)`, `python /dev/stdin`. */
const PSEUDO_FILE = /^\/(?:dev|proc|sys)\//;

/** What an interpreter process runs, from its argv (argv[0] is the interpreter). Pure. */
export function programOf(family: InterpreterFamily, argv: readonly string[]): Program {
  const program = PARSERS[family](argv.slice(1));
  return program.kind === 'script' && PSEUDO_FILE.test(program.path) ? NO_PROGRAM.stdin : program;
}
