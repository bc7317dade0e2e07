/**
 * Unit-name globs, as systemctl and fnmatch(3) know them: `*` (any run of characters), `?` (one
 * character), `[abc]`, `[a-z]`, `[!a]` / `[^a]`, and `\x` for a literal x. A pattern that does not end
 * in a unit type (".socket") or `*` names a service: "nginx", "php*-fpm", the way `systemctl restart
 * nginx` does; "dock*" matches docker.service and docker.socket, as `systemctl status 'dock*'` does.
 */

// A pattern ending in a unit type or in `*` names the type itself ("foo.socket" never matches
// "foo.service"); otherwise ".service" is implied.
const NAMES_ITS_TYPE = /(?:\.(?:service|socket|scope|mount|automount|swap|slice|target|timer|path|device)|\*)$/;
const compiled = new Map<string, RegExp>();

/** What is wrong with a glob, or undefined when it is fine. */
export function globProblem(pattern: string): string | undefined {
  if (pattern === '') return 'expected a unit name or glob, got an empty string';
  try {
    compileGlob(pattern);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Whether a unit name matches a glob (see the module comment). Throws on a malformed glob. */
export function matchesGlob(pattern: string, unitName: string): boolean {
  let regex = compiled.get(pattern);
  if (!regex) {
    regex = compileGlob(pattern);
    compiled.set(pattern, regex);
  }
  return regex.test(unitName);
}

function compileGlob(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) throw new Error(`glob "${pattern}" ends with a lone backslash`);
      source += escapeRegex(next);
      i++;
    } else if (c === '[') {
      const { source: set, end } = bracket(pattern, i);
      source += set;
      i = end;
    } else source += escapeRegex(c);
  }
  if (!NAMES_ITS_TYPE.test(pattern)) source += '\\.service';
  return new RegExp(`^${source}$`, 's');
}

// `[...]` from pattern[start] ('['): returns the regex class and the index of the closing ']'.
function bracket(pattern: string, start: number): { source: string; end: number } {
  let i = start + 1;
  let negate = false;
  if (pattern[i] === '!' || pattern[i] === '^') {
    negate = true;
    i++;
  }
  let body = '';
  // fnmatch: a ']' right after '[' or '[!' is a literal member.
  if (pattern[i] === ']') {
    body += '\\]';
    i++;
  }
  for (; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === ']') {
      if (body === '') throw new Error(`glob "${pattern}" has an empty [] set`);
      return { source: `[${negate ? '^' : ''}${body}]`, end: i };
    }
    if (c === '\\' && i + 1 < pattern.length) {
      body += escapeClass(pattern[i + 1] as string);
      i++;
    } else if (c === '-' && body !== '' && pattern[i + 1] !== ']' && i + 1 < pattern.length) {
      const from = pattern[i - 1] as string;
      const to = pattern[i + 1] as string;
      if (to < from) throw new Error(`glob "${pattern}" has a backwards range ${from}-${to}`);
      body += '-';
    } else body += escapeClass(c);
  }
  throw new Error(`glob "${pattern}" has an unterminated [`);
}

function escapeRegex(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

function escapeClass(c: string): string {
  return /[\]\\^-]/.test(c) ? `\\${c}` : c;
}
