// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

/**
 * One line of a human report made safe for a terminal. File names, comm and cgroup names come from
 * whoever created them (any local user): a raw ESC could clear or retitle root's terminal, a raw
 * newline could fake a report line. Control characters (C0 but tab, DEL, C1) are shown as `\n` or
 * `\xNN` instead. JSON output needs none of this: JSON.stringify escapes them. Pure.
 */
export function printable(line: string): string {
  return line.replace(CONTROL, (c) => (c === '\n' ? '\\n' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/** Lines joined for output, each made printable, with a final newline. Pure. */
export function printableLines(lines: readonly string[]): string {
  return `${lines.map(printable).join('\n')}\n`;
}
