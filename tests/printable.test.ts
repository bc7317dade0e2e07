import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonText, printable } from '../src/report/printable.js';
import { runCli } from './support/cli.js';

// A local user names a file with terminal escapes and a newline, opens it, deletes it: root's
// `restartd status` must show the name, not obey it.
let dir: string;
let child: ChildProcess;
const evil = 'evil\x1b[2J\x1b]0;pwned\x07name\nfake line\x9b31m';

beforeAll(async () => {
  dir = mkdtempSync('/srv/restartd-printable-');
  const path = join(dir, evil);
  writeFileSync(path, 'data');
  child = spawn('/bin/sh', ['-c', 'exec 3<"$1"; echo ready; exec sleep 600', 'sh', path], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
  unlinkSync(path);
});

afterAll(() => {
  child?.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe('names from the system are printed, never obeyed', () => {
  it('printable escapes C0 (but tab), DEL and C1; leaves the rest alone', () => {
    expect(printable('a\x1b[2Jb\nc\td\x7fe\x9bf ü')).toBe('a\\x1b[2Jb\\nc\td\\x7fe\\x9bf ü');
  });

  it('bidi embeddings, overrides and isolates are escaped in text and in JSON (the value unchanged)', () => {
    expect(printable('lib\u202egpj.so \u2066x\u2069 \u202a')).toBe('lib\\u202egpj.so \\u2066x\\u2069 \\u202a');
    // The marks too (ALM, LRM, RLM): they reorder neutral characters around them.
    expect(printable('a\u200fb\u200ec\u061cd')).toBe('a\\u200fb\\u200ec\\u061cd');
    expect(jsonText({ p: 'a\u200fb\u061c' })).toContain('a\\u200fb\\u061c');
    expect(JSON.parse(jsonText({ p: 'a\u061cb' }))).toEqual({ p: 'a\u061cb' });
    const text = jsonText({ path: '/srv/\u202eevil' });
    expect(text).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
    expect(JSON.parse(text)).toEqual({ path: '/srv/\u202eevil' });
  });

  it('restartd status shows the deleted file by an escaped name; --json keeps the exact name', async () => {
    const text = await runCli(['status']);
    const mine = text.stdout.split('\n').filter((line) => line.includes(`${dir}/evil`));
    // The evidence line, and the plan line that quotes it.
    expect(mine.length).toBeGreaterThanOrEqual(1);
    for (const line of mine) expect(line).toContain(`${dir}/evil\\x1b[2J\\x1b]0;pwned\\x07name\\nfake line\\x9b31m`);
    expect(mine.some((line) => /^\s+deleted\s/.test(line))).toBe(true);
    expect(text.stdout).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    const json = JSON.parse((await runCli(['status', '--json'])).stdout) as { stale: Array<{ pid: number; files: Array<{ path: string }> }> };
    expect(json.stale.find((p) => p.pid === child.pid)?.files.map((f) => f.path)).toContain(join(dir, evil));
  });
});
