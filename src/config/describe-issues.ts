import type * as z from 'zod';

const MAX_SHOWN = 3;

/** `units[2].action` from a zod issue path. */
export function fieldName(path: readonly PropertyKey[]): string {
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`)).join('');
}

/**
 * zod issues in words that name the field, what was expected and what was found:
 * `units[2].action: expected one of restart, reload, stop-start, notify, skip, got "bounce"`.
 * Parse with `{ reportInput: true }` so the issues carry what was found.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const lines = issues.flatMap(describeIssue);
  const more = lines.length > MAX_SHOWN ? ` (and ${lines.length - MAX_SHOWN} more)` : '';
  return lines.slice(0, MAX_SHOWN).join('; ') + more;
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  const at = (path: readonly PropertyKey[], text: string): string => (path.length > 0 ? `${fieldName(path)}: ${text}` : text);
  const found = 'input' in issue ? issue.input : undefined;
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => at([...issue.path, key], 'unknown key'));
    case 'invalid_value': {
      const values = issue.values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
      const expected = values.length === 1 ? `expected ${values[0]}` : `expected one of ${values.join(', ')}`;
      return [at(issue.path, `${expected}, ${got(found)}`)];
    }
    case 'invalid_type':
      return [at(issue.path, `expected ${typeName(issue.expected)}, ${got(found)}`)];
    case 'too_small':
      return [at(issue.path, `expected ${bound('at least', issue.minimum, issue.origin, issue.inclusive !== false)}, ${got(found)}`)];
    case 'too_big':
      return [at(issue.path, `expected ${bound('at most', issue.maximum, issue.origin, issue.inclusive !== false)}, ${got(found)}`)];
    case 'invalid_format':
      return [at(issue.path, `${issue.message}, ${got(found)}`)];
    default:
      return [at(issue.path, issue.message)];
  }
}

function got(value: unknown): string {
  if (value === undefined) return 'got nothing';
  if (Array.isArray(value)) return 'got an array';
  if (value === null) return 'got null';
  if (typeof value === 'object') return 'got an object';
  if (typeof value === 'string') return `got ${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)}`;
  return `got ${typeof value} ${String(value)}`;
}

function typeName(expected: string): string {
  if (expected === 'int') return 'an integer';
  if (expected === 'array' || expected === 'object') return `an ${expected}`;
  return `a ${expected}`;
}

function bound(words: 'at least' | 'at most', limit: number | bigint, origin: string, inclusive: boolean): string {
  if (origin === 'array') return `${words} ${limit} entr${limit === 1 ? 'y' : 'ies'}`;
  if (origin === 'string') return `${words} ${limit} character${limit === 1 ? '' : 's'}`;
  const op = (words === 'at least' ? '>' : '<') + (inclusive ? '=' : '');
  return `a number ${op} ${limit}`;
}
