import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseStat } from '../src/scan/parse.js';

/** The split-based reading parseStat replaces (every field after comm made a string). */
function parseStatBySplit(text: string) {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).split(' ');
  const state = rest[0];
  const ppid = Number(rest[1]);
  const flags = Number(rest[6]);
  const startTime = Number(rest[19]);
  if (state === undefined || !Number.isFinite(ppid) || !Number.isFinite(startTime)) return undefined;
  return { pid: Number(text.slice(0, open).trim()), comm: text.slice(open + 1, close), state, ppid, flags, startTime };
}

describe('parseStat', () => {
  it.each([
    ['short', '1 (a) S 0 1 1 0 -1 4194560 100'],
    ['ends at comm', '1 (a)'],
    ['double spaces', '7 (x y) S  3 1 1 0 -1 4194560 1 0 0 0 1 2 0 0 20 0 1 0 55 1000'],
    ['exactly 22 fields', '9 (z) R 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12345'],
    ['newline after start time', '9 (z) R 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12345\n'],
    ['no parentheses', 'nonsense'],
  ])('reads %s like the split-based parser', (_name, text) => {
    expect(parseStat(text)).toEqual(parseStatBySplit(text));
  });

  it('reads every live process like the split-based parser', () => {
    let compared = 0;
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      let text: string;
      try {
        text = readFileSync(`/proc/${name}/stat`, 'utf8');
      } catch {
        continue;
      }
      expect(parseStat(text)).toEqual(parseStatBySplit(text));
      compared++;
    }
    expect(compared).toBeGreaterThan(0);
  });
});
