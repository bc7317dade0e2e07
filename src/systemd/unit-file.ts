/**
 * systemd unit-file syntax (systemd.syntax(7)), parsed without evaluating anything: `[Section]`
 * headers, `Key=Value` assignments, `#`/`;` comment lines, and lines continued with a trailing
 * backslash (replaced by a space; comment lines inside a continuation are skipped). Pure.
 */

/** One `Key=Value` line, where it came from. */
export interface UnitAssignment {
  section: string;
  key: string;
  value: string;
  file: string;
  line: number;
}

/** Something in a unit file restartd could not use; the run goes on without it. */
export interface UnitFileWarning {
  file: string;
  line?: number;
  message: string;
}

export interface ParsedUnitFile {
  assignments: UnitAssignment[];
  warnings: UnitFileWarning[];
}

/** Settings after applying a fragment and its drop-ins: section → key → the values in effect. */
export type UnitSettings = Map<string, Map<string, UnitAssignment[]>>;

const COMMENT = /^[#;]/;

/** Parses one unit file's text; `file` names it in assignments and warnings. */
export function parseUnitFile(text: string, file: string): ParsedUnitFile {
  const assignments: UnitAssignment[] = [];
  const warnings: UnitFileWarning[] = [];
  let section: string | undefined;
  let pending: { text: string; line: number } | undefined;

  const take = (logical: string, line: number): void => {
    const trimmed = logical.trim();
    if (trimmed.startsWith('[')) {
      if (!trimmed.endsWith(']') || trimmed.length < 3) {
        warnings.push({ file, line, message: `invalid section header ${JSON.stringify(trimmed)}, section ignored` });
        section = undefined;
      } else section = trimmed.slice(1, -1);
      return;
    }
    const eq = trimmed.indexOf('=');
    const key = eq < 0 ? '' : trimmed.slice(0, eq).trim();
    if (key === '') {
      warnings.push({ file, line, message: `not a Key=Value assignment: ${JSON.stringify(shorten(trimmed))}, ignored` });
      return;
    }
    if (section === undefined) {
      warnings.push({ file, line, message: `${key}= is outside any section, ignored` });
      return;
    }
    assignments.push({ section, key, value: trimmed.slice(eq + 1).trim(), file, line });
  };

  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] as string).replace(/\r$/, '');
    const lead = raw.trimStart();
    const continued = raw.endsWith('\\');
    if (pending) {
      if (COMMENT.test(lead)) continue;
      pending.text += continued ? `${raw.slice(0, -1)} ` : raw;
      if (!continued) {
        take(pending.text, pending.line);
        pending = undefined;
      }
      continue;
    }
    if (lead === '' || COMMENT.test(lead)) continue;
    if (continued) pending = { text: `${raw.slice(0, -1)} `, line: i + 1 };
    else take(raw, i + 1);
  }
  if (pending) take(pending.text, pending.line);
  return { assignments, warnings };
}

/**
 * A fragment and its drop-ins applied in order: a later assignment adds to (list keys) or overrides
 * (single-value keys) earlier ones, and an empty assignment (`Key=`) resets the key.
 */
export function foldUnitFiles(files: readonly ParsedUnitFile[]): UnitSettings {
  const settings: UnitSettings = new Map();
  for (const { assignments } of files) {
    for (const assignment of assignments) {
      let keys = settings.get(assignment.section);
      if (!keys) {
        keys = new Map();
        settings.set(assignment.section, keys);
      }
      if (assignment.value === '') keys.set(assignment.key, []);
      else keys.set(assignment.key, [...(keys.get(assignment.key) ?? []), assignment]);
    }
  }
  return settings;
}

/** The assignment in effect for a single-value key (the last one), or undefined. */
export function lastAssignment(settings: UnitSettings, section: string, key: string): UnitAssignment | undefined {
  return settings.get(section)?.get(key)?.at(-1);
}

function shorten(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
