// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * One line of a human report made safe for a terminal. File names, comm and cgroup names come from
 * whoever created them (any local user): a raw ESC could clear or retitle root's terminal, a raw
 * newline could fake a report line, a bidi override (U+202E) could show a name reversed. Control
 * characters (C0 but tab, DEL, C1) are shown as `\n` or `\xNN`, bidi marks, embeddings, overrides
 * and isolates (U+061C, U+200E-200F, U+202A-202E, U+2066-2069) as `\uNNNN` instead. JSON output: see
 * jsonText. Pure.
 */
export function printable(line: string): string {
  return line.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\n') return '\\n';
    return code > 0xff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\x${code.toString(16).padStart(2, '0')}`;
  });
}

/** Lines joined for output, each made printable, with a final newline. Pure. */
export function printableLines(lines: readonly string[]): string {
  return `${lines.map(printable).join('\n')}\n`;
}

// eslint-disable-next-line no-misleading-character-class
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * JSON for output: JSON.stringify escapes control characters but not bidi controls, which would
 * reorder what a terminal shows; they are written as \uNNNN escapes (the same JSON value). Pure.
 */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2).replace(BIDI, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}
