import { linkSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { diffGenerations } from '../src/generation/index.js';

const DIRS = 100;
const PER_DIR = 1000;
let tmp: string;

// 100k files per generation, nearly all hardlinks to a few blobs (ext4 allows 65000 links per inode).
beforeAll(() => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), 'restartd-diff-scale-')));
  const blobs = Array.from({ length: 10 }, (_, i) => {
    const blob = join(tmp, `blob${i}`);
    writeFileSync(blob, 'x'.repeat(100 + i));
    return blob;
  });
  for (let d = 0; d < DIRS; d++) {
    mkdirSync(join(tmp, 'old', `d${d}`), { recursive: true });
    mkdirSync(join(tmp, 'new', `d${d}`), { recursive: true });
    for (let f = 0; f < PER_DIR; f++) {
      const blob = blobs[f % blobs.length] ?? '';
      linkSync(blob, join(tmp, 'old', `d${d}`, `f${f}`));
      // d0: 50 size changes and 50 same-size edits; d1: 100 byte-identical copies (hashed, unchanged).
      const rel = join(tmp, 'new', `d${d}`, `f${f}`);
      if (d === 0 && f < 50) writeFileSync(rel, 'changed size');
      else if (d === 0 && f < 100) writeFileSync(rel, 'y'.repeat(100 + (f % blobs.length)));
      else if (d === 1 && f < 100) writeFileSync(rel, 'x'.repeat(100 + (f % blobs.length)));
      else linkSync(blob, rel);
    }
  }
  for (let i = 0; i < 10; i++) {
    writeFileSync(join(tmp, 'old', 'd99', `removed${i}`), 'r');
    writeFileSync(join(tmp, 'new', 'd99', `added${i}`), 'a');
  }
}, 120_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

it('diffs two 100k-file trees', async () => {
  const started = performance.now();
  const changeSet = await diffGenerations(join(tmp, 'old'), join(tmp, 'new'));
  const ms = performance.now() - started;
  console.log(`diffGenerations: 2 × ${DIRS * PER_DIR + 10} files in ${ms.toFixed(0)} ms`);
  expect({
    changed: changeSet.changed.length,
    removed: changeSet.removed.length,
    added: changeSet.added.length,
    unchanged: changeSet.unchanged,
  }).toEqual({ changed: 100, removed: 10, added: 10, unchanged: DIRS * PER_DIR - 100 });
});
