import { NO_PROGRAM, script } from './program.js';
import type { Program } from '../types/interp.js';

const SHORT: Record<string, string> = { '-r': '--require', '-e': '--eval', '-p': '--print', '-pe': '--eval', '-ep': '--eval', '-C': '--conditions', '-i': '--interactive' };

/** Options whose value is the next argument when not given as `--opt=value` (node's and common V8 ones). */
const VALUED = new Set([
  '--require', '--import', '--loader', '--experimental-loader', '--eval', '--print', '--input-type', '--conditions',
  '--inspect-port', '--debug-port', '--title', '--env-file', '--env-file-if-exists', '--openssl-config', '--icu-data-dir',
  '--redirect-warnings', '--diagnostic-dir', '--report-dir', '--report-directory', '--report-filename', '--report-signal',
  '--cpu-prof-dir', '--cpu-prof-name', '--cpu-prof-interval', '--heap-prof-dir', '--heap-prof-name', '--heap-prof-interval',
  '--dns-result-order', '--unhandled-rejections', '--experimental-policy', '--policy-integrity', '--secure-heap',
  '--secure-heap-min', '--tls-cipher-list', '--tls-keylog', '--use-largepages', '--watch-path', '--test-reporter',
  '--test-reporter-destination', '--test-name-pattern', '--test-skip-pattern', '--test-concurrency', '--test-timeout',
  '--disable-warning', '--experimental-sea-config', '--heapsnapshot-signal', '--heapsnapshot-near-heap-limit',
  '--trace-event-categories', '--trace-event-file-pattern', '--max-http-header-size', '--experimental-default-type',
  '--es-module-specifier-resolution', '--experimental-specifier-resolution', '--snapshot-blob', '--localstorage-file',
  '--allow-fs-read', '--allow-fs-write', '--watch-kill-signal', '--run', '--stack-trace-limit', '--stack-size',
  '--max-old-space-size', '--max-semi-space-size',
]);

/** A `-r`/`--import` value that names a file rather than a package. */
function isPathLike(value: string): boolean {
  return value.startsWith('/') || value.startsWith('./') || value.startsWith('../');
}

/**
 * node [options] [script.js | -e "script" | -] [--] [arguments]. -e/-p mean no script;
 * -r/--import values that are paths are files loaded before the script.
 */
export function nodeProgram(args: readonly string[]): Program {
  const preloads: string[] = [];
  let inline = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      const next = args[i + 1];
      return inline ? NO_PROGRAM.inlineCode : next === undefined ? NO_PROGRAM.interactive : script(next, { preloads });
    }
    if (arg === '-') return inline ? NO_PROGRAM.inlineCode : NO_PROGRAM.stdin;
    if (!arg.startsWith('-')) return inline ? NO_PROGRAM.inlineCode : script(arg, { preloads });
    const eq = arg.indexOf('=');
    const name = SHORT[arg] ?? (eq > 0 ? arg.slice(0, eq) : arg);
    let value: string | undefined;
    if (eq > 0 && arg.startsWith('--')) value = arg.slice(eq + 1);
    else if (VALUED.has(name)) value = args[++i];
    if (name === '--eval' || name === '--print') inline = true;
    if ((name === '--require' || name === '--import') && value !== undefined && isPathLike(value)) preloads.push(value);
  }
  return inline ? NO_PROGRAM.inlineCode : NO_PROGRAM.interactive;
}
