/** `use lib LIST;` statements (the LIST up to the semicolon). */
const USE_LIB = /^\s*use\s+lib\s+([^;]*);/gm;
/** One term of a LIST: a quoted string, qw(...), or a FindBin variable. */
const TERM =
  /'(?<single>(?:[^'\\]|\\.)*)'|"(?<double>(?:[^"\\]|\\.)*)"|qw\s*(?:\((?<w1>[^)]*)\)|\[(?<w2>[^\]]*)\]|\{(?<w3>[^}]*)\}|\/(?<w4>[^/]*)\/|\|(?<w5>[^|]*)\|)|(?<bin>\$\{?(?:FindBin::)?(?:Real)?Bin\}?)|(?<separator>[,.()\s]+)|(?<other>.)/gy;
const FINDBIN_VAR = /\$\{?(?:FindBin::)?(?:Real)?Bin\}?/g;

/**
 * The directories a perl program adds to @INC with `use lib`, read from its source text — never
 * by running perl. Understands string literals, qw(), `.` concatenation and FindBin's $Bin /
 * $RealBin (the script's directory); a LIST with any other expression is skipped whole. Relative
 * results are relative to the process's cwd, as perl would use them.
 */
export function perlLibDirs(source: string, scriptDir: string): string[] {
  const end = /^__(?:END|DATA)__$/m.exec(source)?.index ?? source.length;
  const text = source.slice(0, end);
  const dirs: string[] = [];
  for (const statement of text.matchAll(USE_LIB)) {
    const parsed = parseList(statement[1] as string, scriptDir);
    if (parsed) dirs.push(...parsed.filter((d) => d !== ''));
  }
  return dirs;
}

function parseList(list: string, scriptDir: string): string[] | undefined {
  const items: string[] = [];
  let current: string | undefined;
  TERM.lastIndex = 0;
  for (let m = TERM.exec(list); m !== null && m[0] !== ''; m = TERM.exec(list)) {
    const { single, double, w1, w2, w3, w4, w5, bin, separator, other } = m.groups ?? {};
    const words = w1 ?? w2 ?? w3 ?? w4 ?? w5;
    if (other !== undefined) return undefined;
    if (separator !== undefined) {
      if (separator.includes(',')) {
        if (current !== undefined) items.push(current);
        current = undefined;
      }
      continue;
    }
    let value: string;
    if (single !== undefined) value = single.replace(/\\(['\\])/g, '$1');
    else if (double !== undefined) {
      value = double.replace(FINDBIN_VAR, scriptDir);
      if (/[$@\\]/.test(value)) return undefined;
    } else if (words !== undefined) {
      if (current !== undefined) items.push(current);
      items.push(...words.split(/\s+/).filter(Boolean));
      current = undefined;
      continue;
    } else value = bin === undefined ? '' : scriptDir;
    current = (current ?? '') + value;
  }
  if (current !== undefined) items.push(current);
  return items;
}
