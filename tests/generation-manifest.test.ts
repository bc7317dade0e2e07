import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RestartdError } from '../src/errors.js';
import { diffGenerations, loadGeneration, manifestJsonSchema } from '../src/generation/index.js';

let tmp: string;
const sha = (content: string): string => createHash('sha256').update(content).digest('hex');
const entry = (path: string, content: string, extra: object = {}) => ({ path, sha256: sha(content), ...extra });

function writeManifest(name: string, manifest: unknown): string {
  const path = join(tmp, name);
  writeFileSync(path, typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
  return path;
}

beforeAll(() => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), 'restartd-manifest-')));
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('manifest parsing errors name the file and the field', () => {
  const good = (n: number) => entry(`f${n}`, `content ${n}`);
  it.each([
    ['bad hash', { version: 1, root: '/r', files: [good(0), good(1), good(2), { path: 'f3', sha256: 'abc' }] }, 'files[3].sha256: expected 64 hex characters'],
    ['wrong version', { version: 2, root: '/r', files: [] }, 'version: Invalid input: expected 1'],
    ['relative root', { version: 1, root: 'r', files: [] }, 'root: expected an absolute path'],
    ['escaping path', { version: 1, root: '/r', files: [entry('../etc/passwd', 'x')] }, 'files[0].path: expected a relative path'],
    ['negative size', { version: 1, root: '/r', files: [entry('a', 'x', { size: -1 })] }, 'files[0].size: Too small'],
    ['duplicate path', { version: 1, root: '/r', files: [good(0), good(0)] }, 'files[1].path: duplicate of files[0].path'],
    ['no files', { version: 1, root: '/r' }, 'files: Invalid input: expected array, received undefined'],
    ['not JSON', '{ "version": 1,', 'not valid JSON'],
  ])('%s', async (name, manifest, detail) => {
    const path = writeManifest(`${name.replaceAll(' ', '-')}.json`, manifest);
    const error = await loadGeneration(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RestartdError);
    expect(error).toMatchObject({ code: 'BAD_MANIFEST', subject: path });
    expect((error as Error).message).toContain(`manifest ${path}: ${detail}`);
  });

  it('a missing manifest', async () => {
    const path = join(tmp, 'missing.json');
    await expect(loadGeneration(path, { source: 'manifest' })).rejects.toThrow(`manifest ${path}: cannot read (ENOENT)`);
  });
});

describe('manifest generations', () => {
  it('manifest vs manifest: sizes and hashes decide, nothing is read', async () => {
    const old = writeManifest('old.json', {
      version: 1,
      root: '/opt/app-1/',
      files: [entry('bin/app', 'app v1', { size: 6 }), entry('lib/a.so', 'aaaa'), entry('lib/b.so', 'bb'), entry('etc/conf', 'conf', { mode: '0644' })],
    });
    const next = writeManifest('new.json', {
      version: 1,
      root: '/opt/app-2',
      files: [entry('bin/app', 'app v2 longer', { size: 13 }), entry('lib/a.so', 'aaaa'), entry('lib/b.so', 'BB'), entry('share/new', 'n')],
    });
    const changeSet = await diffGenerations(old, next);
    expect(changeSet).toEqual({
      old: { source: 'manifest', path: old },
      new: { source: 'manifest', path: next },
      changed: [
        { rel: 'bin/app', oldPath: '/opt/app-1/bin/app', newPath: '/opt/app-2/bin/app' },
        { rel: 'lib/b.so', oldPath: '/opt/app-1/lib/b.so', newPath: '/opt/app-2/lib/b.so' },
      ],
      removed: [{ rel: 'etc/conf', path: '/opt/app-1/etc/conf' }],
      added: [{ rel: 'share/new', path: '/opt/app-2/share/new' }],
      unchanged: 1,
    });
  });

  it('manifest vs dir: the dir files are hashed as needed', async () => {
    const root = join(tmp, 'installed');
    mkdirSync(join(root, 'lib'), { recursive: true });
    writeFileSync(join(root, 'lib/a.so'), 'aaaa');
    writeFileSync(join(root, 'lib/b.so'), 'b2');
    const old = writeManifest('before.json', { version: 1, root, files: [entry('lib/a.so', 'aaaa'), entry('lib/b.so', 'b1')] });
    const changeSet = await diffGenerations(old, root);
    expect(changeSet.changed).toEqual([{ rel: 'lib/b.so', oldPath: join(root, 'lib/b.so'), newPath: join(root, 'lib/b.so') }]);
    expect(changeSet.unchanged).toBe(1);
  });

  it('schemas/manifest.schema.json is generated from ManifestSchema', async () => {
    await expect(`${JSON.stringify(manifestJsonSchema(), null, 2)}\n`).toMatchFileSnapshot('../schemas/manifest.schema.json');
  });
});
