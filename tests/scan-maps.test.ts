import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mappedFilesOf } from '../src/scan/maps-files.js';
import { parseMaps, splitDeleted, unescapeMapsPath } from '../src/scan/parse.js';
import type { FileRef } from '../src/types/process.js';

/** The text-based reading mappedFilesOf replaces: parseMaps, then one ref per dev:inode. */
function mappedFilesOfText(text: string): FileRef[] {
  const seen = new Map<string, FileRef>();
  for (const entry of parseMaps(text)) {
    if (entry.name.charCodeAt(0) !== 47 || entry.ino === 0) continue;
    const key = `${entry.dev}:${entry.ino}`;
    const known = seen.get(key);
    if (known) {
      if (entry.perms.includes('x') && !known.perms?.includes('x')) known.perms = entry.perms;
      continue;
    }
    const { path, deleted } = splitDeleted(entry.name);
    seen.set(key, { path: unescapeMapsPath(path), via: 'map', deleted, dev: entry.dev, ino: entry.ino, range: entry.range, perms: entry.perms });
  }
  return [...seen.values()];
}

function bytesOf(text: string): [Buffer, number] {
  // Garbage after `length` must be ignored: the reader's buffer is reused.
  const bytes = Buffer.from(`${text}\n7f-80 r-xp 0 fd:01 77 /left/over/from/before`, 'utf8');
  return [bytes, Buffer.byteLength(text, 'utf8')];
}

describe('mappedFilesOf', () => {
  const maps = [
    '55d0c0a00000-55d0c0a02000 r--p 00000000 fd:01 1311   /usr/bin/cat',
    '55d0c0a02000-55d0c0a04000 r-xp 00002000 fd:01 1311   /usr/bin/cat',
    '7f0000000000-7f0000021000 rw-p 00000000 00:00 0 ',
    '7f1000000000-7f1000001000 r--p 00001000 fd:01 2222                       /srv/a dir/lib with spaces.so (deleted)',
    '7f2000000000-7f2000001000 r--s 00000000 00:01 3333                       /memfd:buffer (deleted)',
    '7f3000000000-7f3000001000 r--p 00000000 fd:01 4444                       /srv/new\\012line.so',
    '7f3000001000-7f3000002000 r--p 00000000 103:02 4444                      /srv/other-device-same-inode.so',
    '7f4000000000-7f4000001000 r-xp 00000000 fd:01 2222                       /srv/a dir/lib with spaces.so (deleted)',
    '7f5000000000-7f5000001000 rw-s 00000000 fd:01 5555                       /srv/literally (deleted) (deleted)',
    '7f6000000000-7f6000001000 r--p 00000000 fd:01 6666                       /srv/ünïcödé/lib.so',
    '7f7000000000-7f7000001000 r--p 00000000 fd:01 0                          /srv/zero-inode',
    '7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]',
    'truncated line',
    '',
  ].join('\n');

  it('reads the same files as parseMaps on the decoded text', () => {
    const [bytes, length] = bytesOf(maps);
    const files = mappedFilesOf(bytes, length);
    expect(files).toEqual(mappedFilesOfText(maps));
    expect(files.map((f) => f.path)).toEqual([
      '/usr/bin/cat',
      '/srv/a dir/lib with spaces.so',
      '/memfd:buffer',
      '/srv/new\nline.so',
      '/srv/other-device-same-inode.so',
      '/srv/literally (deleted)',
      '/srv/ünïcödé/lib.so',
    ]);
    // A later executable range of the same file upgrades the perms; the first range is kept.
    expect(files[1]).toMatchObject({ range: '7f1000000000-7f1000001000', perms: 'r-xp', deleted: true, ino: 2222 });
    expect(files[0]).toMatchObject({ range: '55d0c0a00000-55d0c0a02000', perms: 'r-xp' });
  });

  it('handles an empty file and a last line without a newline', () => {
    expect(mappedFilesOf(Buffer.alloc(0), 0)).toEqual([]);
    const one = '7f-80 r-xp 00000000 fd:01 9 /srv/x';
    expect(mappedFilesOf(...bytesOf(one))).toEqual(mappedFilesOfText(one));
  });

  it("agrees with parseMaps on every live process's maps", () => {
    let compared = 0;
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      let bytes: Buffer;
      try {
        bytes = readFileSync(`/proc/${name}/maps`);
      } catch {
        continue;
      }
      expect(mappedFilesOf(bytes, bytes.length)).toEqual(mappedFilesOfText(bytes.toString('utf8')));
      compared++;
    }
    expect(compared).toBeGreaterThan(0);
  });
});
