import { chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffGenerations, loadGeneration } from '../src/generation/index.js';

// Two directory trees diffed by path take the paired walk; loaded first, they take the
// listing path (load both, draft, hash). Both must say the same about every case below.
let tmp: string;
let v1: string;
let v2: string;

function write(path: string, content: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

const big = Buffer.alloc(200 * 1024, 7);
const bigChangedLate = Buffer.from(big);
bigChangedLate[bigChangedLate.length - 1] = 8;

beforeAll(() => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), 'restartd-paired-walk-')));
  [v1, v2] = [join(tmp, 'v1'), join(tmp, 'v2')];
  write(`${v1}/same/hardlink`, 'one inode');
  mkdirSync(`${v2}/same`, { recursive: true });
  linkSync(`${v1}/same/hardlink`, `${v2}/same/hardlink`);
  for (const root of [v1, v2]) {
    write(`${root}/same/copy`, 'equal bytes');
    write(`${root}/same/big-copy`, big);
    write(`${root}/same/empty`, '');
    symlinkSync('target', `${root}/same/link`);
  }
  write(`${v1}/content/late`, big);
  write(`${v2}/content/late`, bigChangedLate);
  write(`${v1}/content/early`, 'xbc');
  write(`${v2}/content/early`, 'abc');
  write(`${v1}/content/size`, 'abc');
  write(`${v2}/content/size`, 'abcd');
  symlinkSync('a', `${v1}/content/link`);
  symlinkSync('b', `${v2}/content/link`);
  // A directory on one side and a file (or nothing) on the other.
  write(`${v1}/dir-to-file/inner/a`, 'in a dir');
  write(`${v2}/dir-to-file`, 'now a file');
  write(`${v1}/file-to-dir`, 'was a file');
  write(`${v2}/file-to-dir/b`, 'in a dir');
  write(`${v1}/gone/deep/x`, 'removed subtree');
  write(`${v2}/new/deep/y`, 'added subtree');
  symlinkSync('new', `${v2}/link-to-dir`);
  write(`${v1}/link-to-dir/z`, 'a dir that became a link');
  // A FIFO is not a file of a generation: the file it replaced is removed.
  write(`${v1}/fifo`, 'was a file');
  execFileSync('mkfifo', [`${v2}/fifo`]);
  write(`${v1}/both-unreadable`, 'secret');
  write(`${v2}/both-unreadable`, 'secret');
  chmodSync(`${v1}/both-unreadable`, 0o000);
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('the paired walk of two directory trees', () => {
  it('names every change with real paths, in rel order', async () => {
    const changeSet = await diffGenerations(v1, v2);
    expect(changeSet.changed.map((c) => c.rel)).toEqual(['content/early', 'content/late', 'content/link', 'content/size']);
    expect(changeSet.changed[1]).toEqual({ rel: 'content/late', oldPath: `${v1}/content/late`, newPath: `${v2}/content/late` });
    expect(changeSet.removed).toEqual([
      { rel: 'dir-to-file/inner/a', path: `${v1}/dir-to-file/inner/a` },
      { rel: 'fifo', path: `${v1}/fifo` },
      { rel: 'file-to-dir', path: `${v1}/file-to-dir` },
      { rel: 'gone/deep/x', path: `${v1}/gone/deep/x` },
      { rel: 'link-to-dir/z', path: `${v1}/link-to-dir/z` },
    ]);
    expect(changeSet.added.map((a) => a.rel)).toEqual(['dir-to-file', 'file-to-dir/b', 'link-to-dir', 'new/deep/y']);
    // Root reads the mode-000 file all the same; another user cannot, and then it counts as changed.
    const unreadableChanged = process.getuid?.() !== 0;
    expect(changeSet.unchanged).toBe(unreadableChanged ? 5 : 6);
  });

  it('says what loading both trees and hashing says', async () => {
    const walked = await diffGenerations(v1, v2);
    const listed = await diffGenerations(await loadGeneration(v1), await loadGeneration(v2));
    expect(walked).toEqual(listed);
  });

  it('a tree diffed with itself (through a link to it) is all unchanged, with the real paths', async () => {
    symlinkSync(v2, join(tmp, 'current'));
    const changeSet = await diffGenerations(v2, join(tmp, 'current'));
    expect(changeSet).toMatchObject({ changed: [], removed: [], added: [], new: { source: 'dir', path: join(tmp, 'current') } });
    expect(changeSet.unchanged).toBeGreaterThan(10);
  });
});

describe('the paired walk on two threads', () => {
  // The worker is the built one (dist/), as the CLI runs it.
  it('says what one thread says, with changes spread over many directories', async () => {
    const built = (await import('../dist/generation/index.js')) as typeof import('../src/generation/index.js');
    const [a, b] = [join(tmp, 'many-a'), join(tmp, 'many-b')];
    for (let d = 0; d < 40; d++) {
      for (let f = 0; f < 5; f++) {
        write(`${a}/d${d}/sub/f${f}`, `file ${d}/${f}`);
        write(`${b}/d${d}/sub/f${f}`, d % 7 === 0 && f === 2 ? `file ${d}/X` : `file ${d}/${f}`);
      }
      if (d % 9 === 0) write(`${a}/d${d}/only-old/x`, 'removed');
      if (d % 11 === 0) write(`${b}/d${d}/only-new`, 'added');
    }
    // Without the built worker the walk would quietly stay on one thread and this would prove nothing.
    expect(existsSync(fileURLToPath(new URL('../dist/generation/diff-worker.js', import.meta.url)))).toBe(true);
    const one = await built.diffGenerations(a, b, { parallel: false });
    const two = await built.diffGenerations(a, b, { parallel: true });
    expect(two).toEqual(one);
    expect(one.changed.map((c) => c.rel)).toEqual([0, 14, 21, 28, 35, 7].map((d) => `d${d}/sub/f2`));
    expect(one.removed).toHaveLength(5);
    expect(one.added).toHaveLength(4);
    expect(one.unchanged).toBe(40 * 5 - 6);
  });
});
