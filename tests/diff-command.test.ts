import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderDiffText, runDiff } from '../src/cli/diff-command.js';
import type { ChangeSet } from '../src/types/generation.js';

let tmp: string;

beforeAll(() => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), 'restartd-diff-cmd-')));
  for (const [gen, content] of [['v1', 'one'], ['v2', 'two!']] as const) {
    mkdirSync(join(tmp, gen, 'bin'), { recursive: true });
    writeFileSync(join(tmp, gen, 'bin/app'), content);
    writeFileSync(join(tmp, gen, 'README'), 'same');
  }
  writeFileSync(join(tmp, 'v1/old.conf'), 'x');
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function run(json: boolean): Promise<{ code: number; text: string }> {
  let text = '';
  const code = await runDiff({ old: join(tmp, 'v1'), new: join(tmp, 'v2'), json }, (s) => (text += s));
  return { code, text: text.replaceAll(tmp, '<tmp>') };
}

describe('restartd diff', () => {
  it('prints a readable summary', async () => {
    const { code, text } = await run(false);
    expect(code).toBe(0);
    expect(text).toMatchInlineSnapshot(`
      "dir <tmp>/v1 → dir <tmp>/v2
      changed 1, removed 1, added 0, unchanged 1

      changed (1):
        bin/app

      removed (1):
        old.conf
      "
    `);
  });

  it('prints the JSON contract with --json', async () => {
    const { code, text } = await run(true);
    expect(code).toBe(0);
    expect(JSON.parse(text)).toEqual({
      old: { source: 'dir', path: '<tmp>/v1' },
      new: { source: 'dir', path: '<tmp>/v2' },
      changed: [{ rel: 'bin/app', oldPath: '<tmp>/v1/bin/app', newPath: '<tmp>/v2/bin/app' }],
      removed: [{ rel: 'old.conf', path: '<tmp>/v1/old.conf' }],
      added: [],
      counts: { changed: 1, removed: 1, added: 0, unchanged: 1 },
    });
  });

  it('caps long lists', () => {
    const changeSet: ChangeSet = {
      old: { source: 'nix', path: '/p/system-1-link' },
      new: { source: 'nix', path: '/p/system-2-link' },
      changed: [],
      removed: [],
      added: Array.from({ length: 23 }, (_, i) => ({ rel: `f${String(i).padStart(2, '0')}`, path: `/x/f${i}` })),
      unchanged: 0,
      leftGeneration: ['/nix/store/aaaa-old'],
      storeDir: '/nix/store',
    };
    const text = renderDiffText(changeSet);
    expect(text).toContain('changed 0, removed 0, added 23, unchanged 0; 1 store path left the closure\n');
    expect(text).toContain('  f19\n  … and 3 more\n');
    expect(text).not.toContain('f20');
    expect(text).toContain('left the closure (1):\n  /nix/store/aaaa-old\n');
  });
});

describe('restartd diff --json with a hostile file name', () => {
  it('a bidi override in a changed path is escaped in the JSON (the value unchanged), never written raw', async () => {
    const name = 'lib\u202egpj.so';
    const root = join(tmp, 'bidi');
    for (const [gen, content] of [['v1', 'a'], ['v2', 'b']] as const) {
      mkdirSync(join(root, gen), { recursive: true });
      writeFileSync(join(root, gen, name), content);
    }
    let text = '';
    await runDiff({ old: join(root, 'v1'), new: join(root, 'v2'), json: true }, (s) => (text += s));
    expect(text).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
    expect(text).toContain('lib\\u202egpj.so');
    expect(JSON.stringify(JSON.parse(text))).toContain(name);
  });
});
