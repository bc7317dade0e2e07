import { createHash } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStatus } from '../src/run/status-run.js';
import { DiskTally } from '../src/status/disk-usage.js';
import { defaultGenerationPaths, detectSourceKind } from '../src/status/find-generations.js';
import { measureGenerations } from '../src/status/measure-generations.js';

let tmp: string;

function write(path: string, content: string | number): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, typeof content === 'number' ? 'x'.repeat(content) : content);
}

function hardlink(existing: string, path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  linkSync(existing, path);
}

function symlink(target: string, path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  symlinkSync(target, path);
}

beforeAll(() => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), 'restartd-generations-')));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('DiskTally (pure)', () => {
  it('counts each inode once, symlinks never, unknown inodes by path', () => {
    const tally = new DiskTally();
    tally.add([
      { path: '/a/x', size: 10, dev: 1, ino: 1 },
      { path: '/a/y', size: 10, dev: 1, ino: 1 },
      { path: '/a/l', size: 99, link: 'x' },
      { path: '/a/m', size: 5 },
    ]);
    tally.add([
      { path: '/b/x', size: 10, dev: 1, ino: 1 },
      { path: '/b/z', size: 7, dev: 1, ino: 2 },
      { path: '/b/unknown', size: -1 },
    ]);
    expect(tally.result(1)).toEqual({
      perGeneration: [
        { bytes: 15, uniqueBytes: 5, sharedWithCurrentBytes: 10 },
        { bytes: 17, uniqueBytes: 7, sharedWithCurrentBytes: 17 },
      ],
      reclaimableBytes: 5,
    });
    expect(tally.result(undefined).reclaimableBytes).toBe(22);
  });
});

describe('OSTree-style deployments (hardlinked trees)', () => {
  let deploy: string;
  beforeAll(() => {
    deploy = join(tmp, 'ostree', 'deploy', 'fedora', 'deploy');
    const [a, b, c] = ['1a2b.0', '3c4d.0', '5e6f.0'].map((name) => join(deploy, name)) as [string, string, string];
    write(`${a}/usr/lib/libc.so.6`, 100);
    hardlink(`${a}/usr/lib/libc.so.6`, `${b}/usr/lib/libc.so.6`);
    hardlink(`${a}/usr/lib/libc.so.6`, `${c}/usr/lib/libc.so.6`);
    write(`${a}/usr/bin/tool`, 200);
    hardlink(`${a}/usr/bin/tool`, `${b}/usr/bin/tool`);
    write(`${a}/etc/a-only`, 10);
    write(`${b}/usr/bin/b-only`, 300);
    hardlink(`${b}/usr/bin/b-only`, `${b}/usr/bin/b-only-alias`); // one inode, counted once
    write(`${c}/usr/bin/c-only`, 400);
    write(`${b}/usr/share/bc`, 50);
    hardlink(`${b}/usr/share/bc`, `${c}/usr/share/bc`);
    symlink('libc.so.6', `${a}/usr/lib/libc.so`); // symlinks are not counted
    write(`${deploy}/1a2b.0.origin`, 'origin file, not a deployment');
    mkdirSync(`${deploy}/.staging`, { recursive: true });
  });

  it('finds the OSTree default path and lists deployments, booted one by device and inode', async () => {
    expect(await defaultGenerationPaths({ nixProfile: join(tmp, 'absent'), ostreeDeploy: join(tmp, 'ostree', 'deploy') })).toEqual([deploy]);
    expect((await detectSourceKind(deploy)).kind).toBe('deployments');
  });

  it('measures unique and shared bytes exactly', async () => {
    const source = await measureGenerations(deploy, { bootedRoot: join(deploy, '1a2b.0') });
    expect(source).toEqual({
      kind: 'deployments',
      path: deploy,
      reclaimableBytes: 750,
      generations: [
        { name: '1a2b.0', path: join(deploy, '1a2b.0'), current: true, booted: true, bytes: 310, uniqueBytes: 10, sharedWithCurrentBytes: 310 },
        { name: '3c4d.0', path: join(deploy, '3c4d.0'), current: false, booted: false, bytes: 650, uniqueBytes: 300, sharedWithCurrentBytes: 300 },
        { name: '5e6f.0', path: join(deploy, '5e6f.0'), current: false, booted: false, bytes: 550, uniqueBytes: 400, sharedWithCurrentBytes: 100 },
      ],
    });
  });

  it('without a booted deployment there is no current one, so nothing is shared with it', async () => {
    const source = await measureGenerations(deploy, { bootedRoot: tmp });
    expect(source.generations.map((g) => [g.current, g.uniqueBytes, g.sharedWithCurrentBytes])).toEqual([
      [false, 10, 0],
      [false, 300, 0],
      [false, 400, 0],
    ]);
    expect(source.reclaimableBytes).toBeUndefined();
  });
});

describe('release dirs (a current link)', () => {
  it('lists the releases beside the target; the app dir holding `current` is found too', async () => {
    const app = join(tmp, 'srv', 'app');
    write(join(app, 'releases', 'v1', 'bin', 'app'), 1000);
    write(join(app, 'releases', 'v1', 'share', 'logo'), 20);
    hardlink(join(app, 'releases', 'v1', 'share', 'logo'), join(app, 'releases', 'v2', 'share', 'logo'));
    write(join(app, 'releases', 'v2', 'bin', 'app'), 2000);
    symlink('releases/v2', join(app, 'current'));
    expect(await detectSourceKind(app)).toEqual({ kind: 'release-dir', path: join(app, 'current') });
    const source = await measureGenerations(app);
    expect(source.kind).toBe('release-dir');
    expect(source.generations).toEqual([
      { name: 'v1', path: join(app, 'releases', 'v1'), current: false, bytes: 1020, uniqueBytes: 1000, sharedWithCurrentBytes: 20 },
      { name: 'v2', path: join(app, 'releases', 'v2'), current: true, bytes: 2020, uniqueBytes: 2000, sharedWithCurrentBytes: 2020 },
    ]);
    expect(source.reclaimableBytes).toBe(1000);
  });

  it('a link chain is followed to the profile it leads to; a link into a Nix store is refused, naming it', async () => {
    const base = join(tmp, 'chain');
    const store = join(base, 'nix', 'store');
    const sys = `${store}/${'a'.repeat(32)}-nixos-system`;
    write(join(sys, 'sw'), 10);
    const profiles = join(base, 'profiles');
    symlink(sys, join(profiles, 'default-7-link'));
    symlink('default-7-link', join(profiles, 'default'));
    symlink(join(profiles, 'default'), join(base, 'home-nix-profile'));
    expect(await detectSourceKind(join(base, 'home-nix-profile'))).toEqual({ kind: 'nix-profile', path: join(profiles, 'default') });
    symlink(sys, join(base, 'current-system'));
    await expect(detectSourceKind(join(base, 'current-system'))).rejects.toThrow(`${join(base, 'current-system')} leads into a Nix store (${sys}), not to a profile`);
  });
});

describe('Nix-style profiles (store dirs)', () => {
  const storePath = (store: string, label: string, name: string) => `${store}/${createHash('sha256').update(label).digest('hex').slice(0, 32)}-${name}`;

  it.each([
    ['walking each generation (no nix-store)', false],
    ['nix-store -qR, each store path walked once', true],
  ])('measures closures %s: shared store paths count for both, store paths not in the current closure are named', async (_how, withNixStore) => {
    const root = join(tmp, withNixStore ? 'with-nix-store' : 'without');
    const store = join(root, 'nix', 'store');
    const glibc = storePath(store, 'glibc', 'glibc-2.39');
    const app1 = storePath(store, 'app-1', 'app-1.0');
    const app2 = storePath(store, 'app-2', 'app-2.0');
    const sys1 = storePath(store, 'system-1', 'nixos-system-1');
    const sys2 = storePath(store, 'system-2', 'nixos-system-2');
    write(`${glibc}/lib/libc.so.6`, 100);
    write(`${app1}/bin/app`, `${'a'.repeat(300)}\0${glibc}/lib\0`);
    write(`${app2}/bin/app`, `${'b'.repeat(500)}\0${glibc}/lib\0`);
    write(`${sys1}/sw`, `${app1}\n`);
    write(`${sys2}/sw`, `${app2}\n`);
    // `nix-store --optimise` hardlinks identical files across store paths: one inode, counted once.
    hardlink(`${glibc}/lib/libc.so.6`, `${app2}/lib/libc-copy.so.6`);
    const profiles = join(root, 'nix', 'var', 'nix', 'profiles');
    symlink(sys1, join(profiles, 'system-1-link'));
    symlink(sys2, join(profiles, 'system-2-link'));
    symlink('system-2-link', join(profiles, 'system'));
    symlink(sys1, join(root, 'booted-system'));
    // A stand-in nix-store that answers -qR from the database we write here, and logs its calls.
    const bin = join(root, 'bin');
    write(join(root, 'db', basename(sys1)), [sys1, app1, glibc].join('\n') + '\n');
    write(join(root, 'db', basename(sys2)), [sys2, app2, glibc].join('\n') + '\n');
    write(join(bin, 'nix-store'), `#!/bin/sh\necho "$@" >> ${root}/calls\ncat "${root}/db/$(basename "$(readlink -f "$2")")"\n`);
    chmodSync(join(bin, 'nix-store'), 0o755);
    const savedPath = process.env['PATH'];
    if (withNixStore) process.env['PATH'] = `${bin}:${savedPath ?? ''}`;
    // nix-store is asked only about a store that has a database beside it (as /nix/var/nix/db is to /nix/store).
    if (withNixStore) mkdirSync(join(root, 'nix', 'var', 'nix', 'db'), { recursive: true });

    const profile = join(profiles, 'system');
    expect(await defaultGenerationPaths({ nixProfile: profile, ostreeDeploy: join(tmp, 'absent') })).toEqual([profile]);
    const source = await measureGenerations(profile, { bootedSystem: join(root, 'booted-system') }).finally(() => {
      process.env['PATH'] = savedPath;
    });
    expect(existsSync(join(root, 'calls'))).toBe(withNixStore);
    const size = (s: string) => Buffer.byteLength(s);
    const app1Bytes = size(`${'a'.repeat(300)}\0${glibc}/lib\0`);
    const app2Bytes = size(`${'b'.repeat(500)}\0${glibc}/lib\0`);
    const sys1Bytes = size(`${app1}\n`);
    const sys2Bytes = size(`${app2}\n`);
    expect(source).toEqual({
      kind: 'nix-profile',
      path: profile,
      reclaimableBytes: app1Bytes + sys1Bytes,
      generations: [
        {
          name: '1', path: join(profiles, 'system-1-link'), current: false, booted: true,
          bytes: 100 + app1Bytes + sys1Bytes, uniqueBytes: app1Bytes + sys1Bytes, sharedWithCurrentBytes: 100,
          storePaths: 3, storePathsNotInCurrent: 2,
        },
        {
          name: '2', path: join(profiles, 'system-2-link'), current: true, booted: false,
          bytes: 100 + app2Bytes + sys2Bytes, uniqueBytes: app2Bytes + sys2Bytes, sharedWithCurrentBytes: 100 + app2Bytes + sys2Bytes,
          storePaths: 3, storePathsNotInCurrent: 0,
        },
      ],
    });
  });
});

describe('an unreadable generation', () => {
  it('carries its error; the others are still measured', async () => {
    const app = join(tmp, 'broken-app');
    write(join(app, 'releases', 'v1', 'bin', 'app'), 10);
    write(join(app, 'releases', 'v2', 'bin', 'app'), 20);
    symlink('releases/v2', join(app, 'current'));
    const profiles = join(tmp, 'broken-nix', 'profiles');
    symlink(join(tmp, 'broken-nix', 'store', `${'0'.repeat(32)}-gone`), join(profiles, 'system-1-link'));
    symlink('system-1-link', join(profiles, 'system'));
    const nix = await measureGenerations(join(profiles, 'system'));
    expect(nix.generations).toEqual([{ name: '1', path: join(profiles, 'system-1-link'), current: true, error: expect.stringContaining('does not exist') }]);
    const releases = await measureGenerations(app);
    expect(releases.generations.map((g) => g.bytes)).toEqual([10, 20]);
  });
});

describe('restartd status with --generations', () => {
  it('an unusable configured source is an error naming it; none configured means none measured', async () => {
    const fixtureProc = join(tmp, 'empty-proc');
    mkdirSync(fixtureProc, { recursive: true });
    await expect(runStatus({ procRoot: fixtureProc, modulesDirs: [], generations: [join(tmp, 'nope')] })).rejects.toThrow(
      `--generations ${join(tmp, 'nope')}: does not exist`,
    );
    const { exitCode, report } = await runStatus({ procRoot: fixtureProc, modulesDirs: [], generations: [] });
    expect(exitCode).toBe(0);
    expect(report.installed).toBeUndefined();
  });
  it("the config's `generations` are measured when --generations is not given, and named when unusable", async () => {
    const fixtureProc = join(tmp, 'empty-proc');
    mkdirSync(fixtureProc, { recursive: true });
    const app = join(tmp, 'config-app');
    write(join(app, 'releases', 'v1', 'bin', 'app'), 700);
    write(join(app, 'releases', 'v2', 'bin', 'app'), 900);
    symlink('releases/v2', join(app, 'current'));
    const config = join(tmp, 'config-generations.json');
    writeFileSync(config, JSON.stringify({ version: 1, generations: [app] }));
    const { report } = await runStatus({ procRoot: fixtureProc, modulesDirs: [], config });
    const [source] = report.installed ?? [];
    expect(source?.generations.map((g) => [g.name, g.current, g.uniqueBytes])).toEqual([['v1', false, 700], ['v2', true, 900]]);
    writeFileSync(config, JSON.stringify({ version: 1, generations: [join(tmp, 'gone')] }));
    await expect(runStatus({ procRoot: fixtureProc, modulesDirs: [], config })).rejects.toThrow(`config generations ${join(tmp, 'gone')}: does not exist`);
  });
});
