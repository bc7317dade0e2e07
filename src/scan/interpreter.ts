import type { InterpreterFamily } from '../types/interp.js';

// Versioned names as distributions install them: python3.11, python3.11d, pypy3, perl5.36.0,
// ruby3.1, nodejs, ksh93. Shells: sh, bash, dash, zsh, ksh, mksh, ash, posh, yash.
const EXE_FAMILIES: ReadonlyArray<readonly [RegExp, InterpreterFamily]> = [
  [/^(?:python|pypy)\d*(?:\.\d+)*[dmu]*(?:-dbg)?$/, 'python'],
  [/^perl\d*(?:\.\d+)*$/, 'perl'],
  [/^ruby\d*(?:\.\d+)*$/, 'ruby'],
  [/^node(?:js)?\d*$/, 'node'],
  [/^(?:ba|da|z|k|mk|a|po|ya)?sh\d*$/, 'shell'],
];

/** busybox runs the applet named by argv[0]; only its shells are interpreters. */
const BUSYBOX_SHELLS = new Set(['sh', 'ash', 'hush']);

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function familyOfName(name: string): InterpreterFamily | undefined {
  for (const [pattern, family] of EXE_FAMILIES) if (pattern.test(name)) return family;
  return undefined;
}

/**
 * Whether /proc/PID/cmdline is worth reading for a process with this exe: the scan's cheap
 * pre-filter (a regex on the basename), so ordinary processes pay nothing.
 */
export function mayBeInterpreter(exe: string | null): boolean {
  if (exe === null) return false;
  const name = basename(exe);
  return name === 'busybox' || familyOfName(name) !== undefined;
}

/**
 * The interpreter family of a process, from its executable (the kernel's /proc/PID/exe, never comm
 * or argv[0], which the process sets). argv[0] only picks busybox's applet.
 */
export function interpreterOf(exe: string | null, argv0?: string): InterpreterFamily | undefined {
  if (exe === null) return undefined;
  const name = basename(exe);
  if (name === 'busybox') {
    const applet = argv0 === undefined ? '' : basename(argv0).replace(/^-/, '');
    return BUSYBOX_SHELLS.has(applet) ? 'shell' : undefined;
  }
  return familyOfName(name);
}
