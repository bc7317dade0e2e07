import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStoreIndex, scanFileReferences, scanLinkReferences, type StoreIndex } from '../src/generation/store-references.js';

let tmp: string;
let index: StoreIndex;
const hashA = 'a'.repeat(32);
const hashB = 'b'.repeat(32);

beforeAll(async () => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), 'restartd-refs-')));
  for (const base of [`${hashA}-liba-1.0`, `${hashA}-liba-1.0.drv`, `${hashB}-libb-2.0`, `${hashB}-libb-2.0.lock`, '.links']) {
    mkdirSync(join(tmp, 'store', base), { recursive: true });
  }
  index = await readStoreIndex(join(tmp, 'store'));
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('store reference scanning', () => {
  it('indexes <hash>-<name> entries only, without .lock files', () => {
    expect(Object.fromEntries(index.byHash)).toEqual({ [hashA]: [`${hashA}-liba-1.0`, `${hashA}-liba-1.0.drv`], [hashB]: [`${hashB}-libb-2.0`] });
  });

  it.each([8, 40, 61, 64, 1024 * 1024])('finds references across chunk boundaries (buffer %i bytes)', async (size) => {
    const store = join(tmp, 'store');
    const text = `${'x'.repeat(37)}${store}/${hashA}-liba-1.0/lib/liba.so\0${'y'.repeat(50)}${store}/${hashB}-libb-2.0\0${store}/${'c'.repeat(32)}-missing\0${store}/short`;
    const file = join(tmp, `bin-${size}`);
    writeFileSync(file, text);
    const found = new Set<string>();
    expect(scanFileReferences(index, file, found, Buffer.alloc(Math.max(size, index.needle.length + 33)))).toBe(text.length);
    expect([...found].sort()).toEqual([`${store}/${hashA}-liba-1.0`, `${store}/${hashB}-libb-2.0`]);
  });

  it('a missing file adds nothing', () => {
    const found = new Set<string>();
    expect(scanFileReferences(index, join(tmp, 'nope'), found, Buffer.alloc(4096))).toBeUndefined();
    expect(found.size).toBe(0);
  });

  it('picks the entry the text spells out when a hash is shared', () => {
    const store = join(tmp, 'store');
    const found = new Set<string>();
    scanLinkReferences(index, `${store}/x/link`, `${store}/${hashA}-liba-1.0.drv`, found);
    expect([...found]).toEqual([`${store}/${hashA}-liba-1.0.drv`]);
  });

  it('resolves relative symlink targets against the link', () => {
    const found = new Set<string>();
    scanLinkReferences(index, join(tmp, 'store', `${hashA}-liba-1.0`, 'lib', 'link'), `../../${hashB}-libb-2.0/lib`, found);
    expect([...found]).toEqual([join(tmp, 'store', `${hashB}-libb-2.0`)]);
  });
});
