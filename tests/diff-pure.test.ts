import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compareFiles, type FileVerdict } from '../src/diff/compare-files.js';
import { completeChangeSet, draftChangeSet } from '../src/diff/draft-changeset.js';
import { parseStoreName, storeKeys } from '../src/diff/store-names.js';
import { alignStoreFiles, pairStorePaths } from '../src/diff/store-pairing.js';
import type { Generation, GenerationFile } from '../src/types/generation.js';

const file = (rel: string, extra: Partial<GenerationFile> = {}, root = '/old'): GenerationFile => ({ path: `${root}/${rel}`, rel, size: 10, ...extra });

const verdictCases: Array<[string, Partial<GenerationFile>, Partial<GenerationFile>, FileVerdict]> = [
  ['same dev+ino', { dev: 1, ino: 5 }, { dev: 1, ino: 5, size: 99 }, { kind: 'unchanged', by: 'inode' }],
  ['same ino, other dev', { dev: 1, ino: 5 }, { dev: 2, ino: 5 }, { kind: 'needs-hash' }],
  ['same symlink target', { link: 'a' }, { link: 'a' }, { kind: 'unchanged', by: 'link' }],
  ['other symlink target', { link: 'a' }, { link: 'b' }, { kind: 'changed', by: 'link' }],
  ['file became symlink', {}, { link: 'a' }, { kind: 'changed', by: 'type' }],
  ['size differs', { size: 1 }, { size: 2 }, { kind: 'changed', by: 'size' }],
  ['unknown size', { size: -1 }, { size: 2 }, { kind: 'needs-hash' }],
  ['same size, no hashes', {}, {}, { kind: 'needs-hash' }],
  ['both hashes equal (case-insensitive)', { sha256: 'AB' }, { sha256: 'ab' }, { kind: 'unchanged', by: 'hash' }],
  ['both hashes differ', { sha256: 'aa' }, { sha256: 'bb' }, { kind: 'changed', by: 'hash' }],
  ['one hash known', { sha256: 'aa' }, {}, { kind: 'needs-hash' }],
];

describe('compareFiles', () => {
  it.each(verdictCases)('%s', (_name, oldExtra, newExtra, verdict) => {
    expect(compareFiles(file('f', oldExtra), file('f', newExtra, '/new'))).toEqual(verdict);
  });
});

const generation = (root: string, files: GenerationFile[], extra: Partial<Generation> = {}): Generation => ({
  source: 'dir',
  path: root,
  files: new Map(files.map((f) => [f.rel, f])),
  ...extra,
});

describe('draftChangeSet / completeChangeSet', () => {
  const oldGen = generation('/old', [
    file('same-inode', { dev: 1, ino: 1 }),
    file('grown', { size: 1 }),
    file('copy'),
    file('edited'),
    file('unreadable'),
    file('gone'),
  ]);
  const newGen = generation('/new', [
    file('same-inode', { dev: 1, ino: 1 }, '/new'),
    file('grown', { size: 2 }, '/new'),
    file('copy', {}, '/new'),
    file('edited', {}, '/new'),
    file('unreadable', {}, '/new'),
    file('fresh', {}, '/new'),
  ]);

  it('settles what it can without reading and asks for hashes of the rest', () => {
    const draft = draftChangeSet(oldGen, newGen);
    expect(draft.needsHash.map((p) => p.rel)).toEqual(['copy', 'edited', 'unreadable']);
    expect(draft.changeSet).toMatchObject({
      changed: [{ rel: 'grown', oldPath: '/old/grown', newPath: '/new/grown' }],
      removed: [{ rel: 'gone', path: '/old/gone' }],
      added: [{ rel: 'fresh', path: '/new/fresh' }],
      unchanged: 1,
    });
  });

  it('finishes from hashes; an unknown hash counts as changed', () => {
    const hashes = new Map([
      ['/old/copy', 'h1'],
      ['/new/copy', 'h1'],
      ['/old/edited', 'h2'],
      ['/new/edited', 'h3'],
      ['/old/unreadable', 'h4'],
    ]);
    const changeSet = completeChangeSet(draftChangeSet(oldGen, newGen), (f) => hashes.get(f.path));
    expect(changeSet.changed.map((c) => c.rel)).toEqual(['edited', 'grown', 'unreadable']);
    expect(changeSet.unchanged).toBe(2);
    expect(changeSet.leftGeneration).toBeUndefined();
  });
});

const S = '/s';
const sp = (hashChar: string, name: string): string => `${S}/${hashChar.repeat(32)}-${name}`;

describe('store names', () => {
  it.each([
    ['openssl-3.0.13', { name: 'openssl-3.0.13', pname: 'openssl', version: '3.0.13', output: '' }],
    ['openssl-3.0.13-bin', { name: 'openssl-3.0.13-bin', pname: 'openssl', version: '3.0.13', output: 'bin' }],
    ['nixos-system-host-24.05', { pname: 'nixos-system-host', version: '24.05', output: '' }],
    ['etc', { pname: 'etc', version: '', output: '' }],
  ])('%s', (name, expected) => {
    expect(parseStoreName(`${'a'.repeat(32)}-${name}`)).toMatchObject(expected);
  });

  it('rejects what is not <hash>-<name>', () => {
    expect(parseStoreName('short-name')).toBeUndefined();
    expect(parseStoreName(`${'A'.repeat(32)}-x`)).toBeUndefined();
  });

  it('keys duplicate names deterministically by hash', () => {
    expect([...storeKeys([sp('b', 'source'), sp('a', 'source'), sp('c', 'etc')])]).toEqual([
      [sp('a', 'source'), 'source'],
      [sp('b', 'source'), 'source~2'],
      [sp('c', 'etc'), 'etc'],
    ]);
  });
});

describe('pairStorePaths', () => {
  it('pairs identical paths, then by name, then a lone version bump', () => {
    const oldClosure = new Set([sp('a', 'glibc-2.39'), sp('b', 'libfoo-1.0'), sp('c', 'openssl-3.0.1'), sp('d', 'gone-1')]);
    const newClosure = new Set([sp('a', 'glibc-2.39'), sp('e', 'libfoo-1.0'), sp('f', 'openssl-3.0.2'), sp('g', 'fresh-1')]);
    expect(Object.fromEntries(pairStorePaths(oldClosure, newClosure))).toEqual({
      [sp('a', 'glibc-2.39')]: sp('a', 'glibc-2.39'),
      [sp('e', 'libfoo-1.0')]: sp('b', 'libfoo-1.0'),
      [sp('f', 'openssl-3.0.2')]: sp('c', 'openssl-3.0.1'),
    });
  });

  it('does not guess between several versions of one package', () => {
    const oldClosure = new Set([sp('a', 'python3-3.11.9'), sp('b', 'python3-3.12.4')]);
    const newClosure = new Set([sp('c', 'python3-3.11.10'), sp('d', 'python3-3.12.5')]);
    expect(pairStorePaths(oldClosure, newClosure).size).toBe(0);
  });

  it('re-keys new files onto the old keys, keeping duplicates apart', () => {
    // a stays a; of the new 0 and c, the first in hash order (0) takes b's key; c gets a fresh one.
    const oldClosure = new Set([sp('a', 'source'), sp('b', 'source')]);
    const newClosure = new Set([sp('0', 'source'), sp('a', 'source'), sp('c', 'source')]);
    const newKeys = storeKeys(newClosure);
    const newFiles = new Map(
      [...newClosure].map((p) => {
        const rel = `${newKeys.get(p)}/f`;
        return [rel, { path: `${p}/f`, rel, size: 1 }];
      }),
    );
    const aligned = alignStoreFiles(oldClosure, newClosure, newFiles, S);
    expect(Object.fromEntries([...aligned].map(([rel, f]) => [rel, f.path]))).toEqual({
      'source/f': `${sp('a', 'source')}/f`,
      'source~2/f': `${sp('0', 'source')}/f`,
      'source~3/f': `${sp('c', 'source')}/f`,
    });
  });
});

describe('src/diff is pure', () => {
  const dir = new URL('../src/diff/', import.meta.url);
  it.each(readdirSync(dir))('%s imports nothing from node:*', (name) => {
    expect(readFileSync(new URL(name, dir), 'utf8')).not.toMatch(/from ['"]node:|import\(['"]node:/);
  });
});
