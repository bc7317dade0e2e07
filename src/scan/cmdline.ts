/** /proc/PID/cmdline: NUL-separated arguments (a trailing NUL ends the last one). Target-controlled data. */
export function parseCmdline(raw: Buffer): string[] {
  if (raw.length === 0) return [];
  const text = raw.toString('utf8');
  const args = text.split('\0');
  if (args[args.length - 1] === '') args.pop();
  return args;
}
