import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffGenerations, loadGeneration } from '../src/generation/index.js';

let tmp: string;
let store: string;

/** `<store>/<32 chars>-<name>`; the hash comes from `label` so rebuilds get new ones. */
const storePath = (label: string, name: string): string =>
  `${store}/${createHash('sha256').update(label).digest('hex').slice(0, 32)}-${name}`;

function write(path: string, content: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

function link(target: string, path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  symlinkSync(target, path);
}

function storePaths() {
  return {
    glibc: storePath('glibc', 'glibc-2.39'),
    tools: storePath('tools', 'tools-1.0'),
    libfoo1: storePath('libfoo-1', 'libfoo-1.0'),
    libfoo2: storePath('libfoo-2', 'libfoo-1.0'),
    app1: storePath('app-1', 'app-1.0'),
    app2: storePath('app-2', 'app-1.0'),
    oldOnly: storePath('old-only', 'oldonly-1'),
    newOnly: storePath('new-only', 'newonly-1'),
    system1: storePath('system-1', 'nixos-system-test-1'),
    system2: storePath('system-2', 'nixos-system-test-2'),
    unrelated: storePath('unrelated', 'unrelated-1'),
  };
}

let p: ReturnType<typeof storePaths>;

beforeAll(() => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), 'restartd-diff-nix-')));
  store = join(tmp, 'store');
  p = storePaths();
  // Shared by both generations.
  write(`${p.glibc}/lib/libc.so.6`, 'libc');
  write(`${p.tools}/bin/tool`, `#!${p.glibc}/lib/ld.so\n`);
  write(`${p.unrelated}/bin/x`, 'not in any closure');
  // libfoo rebuilt: a same-size change to the lib, an identical README, and a new dependency.
  for (const [libfoo, version, extra] of [[p.libfoo1, 'v1', p.oldOnly], [p.libfoo2, 'v2', p.newOnly]] as const) {
    // References hide inside binary data, NUL-terminated, like in an ELF RPATH.
    write(`${libfoo}/lib/libfoo.so`, Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0]), Buffer.from(`${version}\0${p.glibc}/lib\0`)]));
    write(`${libfoo}/share/README`, 'libfoo readme');
    link(`${extra}/share/data`, `${libfoo}/share/extra`);
  }
  write(`${p.oldOnly}/share/data`, 'old only');
  write(`${p.newOnly}/share/data`, 'new only');
  // app depends on libfoo: rebuilt with the new path (same length, other bytes) and a new link target.
  for (const [app, libfoo] of [[p.app1, p.libfoo1], [p.app2, p.libfoo2]] as const) {
    write(`${app}/bin/app`, `#!/bin/sh\nexec ${libfoo}/lib/libfoo.so "$@"\n`);
    link(`${libfoo}/lib/libfoo.so`, `${app}/lib/libfoo.so`);
    write(`${app}/share/doc`, 'identical docs');
  }
  for (const [system, app] of [[p.system1, p.app1], [p.system2, p.app2]] as const) {
    write(`${system}/activate`, `systemctl restart app # ${app}/bin/app\n`);
    link(`${p.tools}/bin/tool`, `${system}/sw/bin/tool`);
  }
  link(`../store/${p.system1.slice(store.length + 1)}`, join(tmp, 'profiles/system-1-link'));
  link(p.system2, join(tmp, 'profiles/system-2-link'));
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('nix generations (a handmade store, closure found by scanning)', () => {
  it('detects the store layout and finds the closure through file bytes and symlinks', async () => {
    const generation = await loadGeneration(join(tmp, 'profiles/system-1-link'));
    expect(generation.source).toBe('nix');
    expect(generation.storeDir).toBe(store);
    expect([...(generation.closure ?? [])].sort()).toEqual([p.system1, p.app1, p.libfoo1, p.glibc, p.tools, p.oldOnly].sort());
    expect(generation.files.get('libfoo-1.0/lib/libfoo.so')?.path).toBe(`${p.libfoo1}/lib/libfoo.so`);
    expect(generation.files.get('nixos-system-test-1/sw/bin/tool')?.link).toBe(`${p.tools}/bin/tool`);
  });

  it('finds the store dir from the layout when only the source is given', async () => {
    const generation = await loadGeneration(join(tmp, 'profiles/system-2-link'), { source: 'nix' });
    expect(generation.storeDir).toBe(store);
    expect(generation.closure?.has(p.newOnly)).toBe(true);
  });

  it('pairs store paths by name and reports changed files, left store paths and the store dir', async () => {
    const changeSet = await diffGenerations(join(tmp, 'profiles/system-1-link'), join(tmp, 'profiles/system-2-link'), { storeDir: store });
    const changed = (rel: string, oldPath: string, newPath: string, inner: string) => ({ rel, oldPath: `${oldPath}/${inner}`, newPath: `${newPath}/${inner}` });
    expect(changeSet.changed).toEqual([
      changed('app-1.0/bin/app', p.app1, p.app2, 'bin/app'),
      changed('app-1.0/lib/libfoo.so', p.app1, p.app2, 'lib/libfoo.so'),
      changed('libfoo-1.0/lib/libfoo.so', p.libfoo1, p.libfoo2, 'lib/libfoo.so'),
      changed('libfoo-1.0/share/extra', p.libfoo1, p.libfoo2, 'share/extra'),
      // the system pairs across its "version" bump (1 → 2), like nix store diff-closures
      changed('nixos-system-test-1/activate', p.system1, p.system2, 'activate'),
    ]);
    expect(changeSet.removed).toEqual([{ rel: 'oldonly-1/share/data', path: `${p.oldOnly}/share/data` }]);
    expect(changeSet.added).toEqual([{ rel: 'newonly-1/share/data', path: `${p.newOnly}/share/data` }]);
    // glibc, tools, app docs, libfoo README, the system's tool link
    expect(changeSet.unchanged).toBe(5);
    expect(changeSet.leftGeneration).toEqual([p.system1, p.app1, p.libfoo1, p.oldOnly].sort());
    expect(changeSet.storeDir).toBe(store);
  });

  it('rejects a link that points outside the store dir', async () => {
    link(join(tmp, 'elsewhere'), join(tmp, 'profiles/bad-link'));
    mkdirSync(join(tmp, 'elsewhere'));
    await expect(loadGeneration(join(tmp, 'profiles/bad-link'), { source: 'nix', storeDir: store })).rejects.toMatchObject({
      code: 'NIX_STORE',
      message: expect.stringContaining(`resolves to ${join(tmp, 'elsewhere')}, which is not a store path in ${store}`),
    });
  });

  it('accepts a store path itself and a store path that is a single file', async () => {
    const script = storePath('script', 'hook.sh');
    write(script, `#!${p.glibc}/lib/ld.so\n`);
    const generation = await loadGeneration(script, { storeDir: store });
    expect([...(generation.closure ?? [])].sort()).toEqual([script, p.glibc].sort());
    expect(generation.files.get('hook.sh')?.path).toBe(script);
  });
});
