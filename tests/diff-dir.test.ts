import { linkSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RestartdError } from '../src/errors.js';
import { diffGenerations, loadGeneration } from '../src/generation/index.js';

let tmp: string;
let socket: Server;

function write(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

beforeAll(async () => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), 'restartd-diff-dir-')));
  const [v1, v2] = [join(tmp, 'releases/v1'), join(tmp, 'releases/v2')];
  write(`${v1}/bin/hardlinked`, 'same inode');
  mkdirSync(`${v2}/bin`, { recursive: true });
  linkSync(`${v1}/bin/hardlinked`, `${v2}/bin/hardlinked`);
  for (const root of [v1, v2]) {
    write(`${root}/share/copy.txt`, 'byte-identical copy');
    write(`${root}/deep/a/b/c.txt`, 'deep copy');
    symlinkSync('lib.so.1', `${root}/same-link`);
  }
  write(`${v1}/size.txt`, 'aaa');
  write(`${v2}/size.txt`, 'aaaa');
  write(`${v1}/content.txt`, 'abc');
  write(`${v2}/content.txt`, 'abd');
  symlinkSync('lib.so.1', `${v1}/lib.so`);
  symlinkSync('lib.so.2', `${v2}/lib.so`);
  write(`${v1}/became-link`, 'was a file');
  symlinkSync('content.txt', `${v2}/became-link`);
  write(`${v1}/removed.txt`, 'only old');
  write(`${v2}/added.txt`, 'only new');
  symlinkSync(v2, join(tmp, 'current'));
  socket = createServer();
  await new Promise<void>((resolve) => socket.listen(`${v2}/control.sock`, resolve));
});

afterAll(async () => {
  await new Promise((resolve) => socket.close(resolve));
  rmSync(tmp, { recursive: true, force: true });
});

describe('dir generations', () => {
  it('lists regular files and symlinks (not sockets) with real paths', async () => {
    const generation = await loadGeneration(join(tmp, 'current'));
    expect(generation.source).toBe('dir');
    expect(generation.path).toBe(join(tmp, 'current'));
    expect([...generation.files.keys()].sort()).toEqual([
      'added.txt',
      'became-link',
      'bin/hardlinked',
      'content.txt',
      'deep/a/b/c.txt',
      'lib.so',
      'same-link',
      'share/copy.txt',
      'size.txt',
    ]);
    expect(generation.files.get('lib.so')).toMatchObject({ path: join(tmp, 'releases/v2/lib.so'), link: 'lib.so.2' });
    expect(generation.files.get('size.txt')).toMatchObject({ path: join(tmp, 'releases/v2/size.txt'), size: 4 });
  });

  it('diffs cheapest first and reports real paths for a root that is a symlink', async () => {
    const changeSet = await diffGenerations(join(tmp, 'releases/v1'), join(tmp, 'current'));
    const v1 = join(tmp, 'releases/v1');
    const v2 = join(tmp, 'releases/v2');
    expect(changeSet).toEqual({
      old: { source: 'dir', path: v1 },
      new: { source: 'dir', path: join(tmp, 'current') },
      changed: ['became-link', 'content.txt', 'lib.so', 'size.txt'].map((rel) => ({ rel, oldPath: `${v1}/${rel}`, newPath: `${v2}/${rel}` })),
      removed: [{ rel: 'removed.txt', path: `${v1}/removed.txt` }],
      added: [{ rel: 'added.txt', path: `${v2}/added.txt` }],
      unchanged: 4,
    });
  });

  it('a generation diffed with itself is all unchanged', async () => {
    const changeSet = await diffGenerations(join(tmp, 'current'), join(tmp, 'releases/v2'));
    expect(changeSet).toMatchObject({ changed: [], removed: [], added: [], unchanged: 9 });
  });

  it.each([
    ['a missing path', 'nope', /generation .*nope: does not exist/],
    ['a file that is not a manifest', 'releases/v1/size.txt', /not a directory, a manifest/],
  ])('rejects %s, naming it', async (_name, rel, message) => {
    const error = await loadGeneration(join(tmp, rel)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RestartdError);
    expect(error).toMatchObject({ code: 'BAD_GENERATION', subject: join(tmp, rel) });
    expect((error as Error).message).toMatch(message);
  });

  it('rejects a dangling symlink root', async () => {
    symlinkSync(join(tmp, 'releases/v9'), join(tmp, 'dangling'));
    await expect(loadGeneration(join(tmp, 'dangling'), { source: 'dir' })).rejects.toThrow(/dangling: does not exist \(or is a dangling link\)/);
  });
});
