import type { ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNixRoot, type NixRoot } from './support/nix-root.js';

// restartd against a REAL Nix (Debian's nix-bin 2.8, as root, no daemon): real derivations built by
// nix-build, real references registered by Nix, real profile generations made by nix-env, real
// processes started from the store. The store is /nix/store at its real path, inside a private
// mount namespace (tests/support/nix-root.ts): the host gets no /nix.

const GENERATIONS = fileURLToPath(new URL('./support/nix-generations.nix', import.meta.url));
// root's default profile (what `nix-env -i` without -p uses; ~/.nix-profile points to it).
const PROFILE = '/nix/var/nix/profiles/default';
const LINK1 = `${PROFILE}-1-link`;
const LINK2 = `${PROFILE}-2-link`;

let root: NixRoot;
let closure1: string[];
let closure2: string[];
const paths = { greeter1: '', greeter2: '', libgreet1: '', libgreet2: '', hashonly1: '', hashonly2: '', idler: '', oldOnly: '', newOnly: '' };
let oldGreeter: ChildProcess; // started from generation 1's greeter, through the profile
let newGreeter: ChildProcess; // started from generation 2's greeter, after the switch
let idler: ChildProcess; // started from idler-1.0, in both closures

const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');

function named(closure: readonly string[], name: string): string {
  const found = closure.filter((p) => p.endsWith(`-${name}`));
  if (found.length !== 1) throw new Error(`expected one ${name} in ${closure.join(' ')}`);
  return found[0] ?? '';
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before printing: ${err}`)));
  });
}

async function runningFrom(child: ChildProcess, program: string): Promise<number> {
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${program} did not start`);
  // nsenter execs the program: wait until the pid is the program (seen from the host, whose root is
  // not the process's: `<base>/root/nix/store/…`).
  for (let i = 0; i < 200; i++) {
    if (readlinkSync(`/proc/${pid}/exe`) === join(root.base, 'root', program)) return pid;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`pid ${pid} never ran ${program}`);
}

/** Bytes of regular files per inode (`dev:ino` → size) in the given store paths, walked on the host. */
function inodesOf(storePaths: readonly string[]): Map<string, number> {
  const inodes = new Map<string, number>();
  const walk = (path: string): void => {
    const s = lstatSync(path);
    if (s.isDirectory()) for (const entry of readdirSync(path)) walk(join(path, entry));
    else if (s.isFile()) inodes.set(`${s.dev}:${s.ino}`, s.size);
  };
  for (const storePath of storePaths) walk(root.hostPath(storePath));
  return inodes;
}

const sum = (inodes: Map<string, number>, keep: (key: string) => boolean = () => true): number =>
  [...inodes].filter(([key]) => keep(key)).reduce((total, [, size]) => total + size, 0);

beforeAll(async () => {
  root = await createNixRoot('real');
  const build = async (gen: number) => lines(await root.check('nix-build', ['--no-out-link', '--arg', 'gen', String(gen), GENERATIONS]));
  const profileBin = (program: string) => join(root.home, '.nix-profile', 'bin', program);

  // Generation 1, and processes started from it through the profile, as a user would.
  const gen1 = await build(1);
  await root.check('nix-env', ['--install', '--remove-all', ...gen1]);
  oldGreeter = root.start(profileBin('greeter'), []);
  expect(await firstLine(oldGreeter)).toBe('greeter 1.0');
  idler = root.start(profileBin('idler'), ['600']);

  // Generation 2 (libgreet 1.0 → 1.1, so greeter is rebuilt; oldonly → newonly), the switch, and a
  // process started from the new generation.
  const gen2 = await build(2);
  await root.check('nix-env', ['--install', '--remove-all', ...gen2]);
  newGreeter = root.start(profileBin('greeter'), []);
  expect(await firstLine(newGreeter)).toBe('greeter 1.1');

  closure1 = lines(await root.check('nix-store', ['--query', '--requisites', LINK1])).sort();
  closure2 = lines(await root.check('nix-store', ['--query', '--requisites', LINK2])).sort();
  Object.assign(paths, {
    greeter1: named(closure1, 'greeter-1.0'),
    greeter2: named(closure2, 'greeter-1.0'),
    libgreet1: named(closure1, 'libgreet-1.0'),
    libgreet2: named(closure2, 'libgreet-1.1'),
    hashonly1: named(closure1, 'hashonly-1'),
    hashonly2: named(closure2, 'hashonly-1'),
    idler: named(closure1, 'idler-1.0'),
    oldOnly: named(closure1, 'oldonly-1'),
    newOnly: named(closure2, 'newonly-1'),
  });
  await runningFrom(oldGreeter, `${paths.greeter1}/bin/greeter`);
  await runningFrom(newGreeter, `${paths.greeter2}/bin/greeter`);
  await runningFrom(idler, `${paths.idler}/bin/idler`);
}, 60_000);

afterAll(async () => {
  await root?.close();
});

describe('real Nix: the setup is what Nix made', () => {
  it('has real profile generations, real references and a store only inside the root', () => {
    // nix-env made generations 1 and 2 of root's default profile, 2 current; ~/.nix-profile points to it.
    expect(readlinkSync(root.hostPath(PROFILE))).toBe('default-2-link');
    expect(readlinkSync(join(root.home, '.nix-profile'))).toBe(PROFILE);
    expect(readlinkSync(root.hostPath(LINK1))).toMatch(/^\/nix\/store\/[0-9a-z]{32}-user-environment$/);
    // The closures are Nix's: the user environment, its manifest, the packages, and what they reference.
    expect(closure1).toHaveLength(7);
    expect(closure1).toEqual(expect.arrayContaining([paths.greeter1, paths.libgreet1, paths.hashonly1, paths.idler, paths.oldOnly]));
    expect(closure2).toEqual(expect.arrayContaining([paths.greeter2, paths.libgreet2, paths.hashonly2, paths.idler, paths.newOnly]));
    expect(closure1.filter((p) => closure2.includes(p))).toEqual([paths.idler]);
    // auto-optimise-store hardlinked the README both greeters carry: one inode.
    const readme = (greeter: string) => lstatSync(root.hostPath(`${greeter}/share/doc/README`)).ino;
    expect(readme(paths.greeter1)).toBe(readme(paths.greeter2));
    // Nothing of this store is on the host.
    expect(existsSync(`/nix/store/${basename(paths.greeter1)}`)).toBe(false);
  });

  it('registered the references Nix found by scanning for hashes (an RPATH, and a bare hash)', async () => {
    const references = lines(await root.check('nix-store', ['--query', '--references', paths.greeter1])).sort();
    expect(references).toEqual([paths.hashonly1, paths.libgreet1].sort());
  });
});

describe('restartd diff of two real profile generations', () => {
  it('pairs the store paths, lists changed/removed/added files, and the store paths that left the closure (from nix-store -qR)', async () => {
    const { code, stdout, stderr } = await root.restartd(['diff', LINK1, LINK2, '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const diff = JSON.parse(stdout);
    expect(diff.old).toEqual({ source: 'nix', path: LINK1 });
    expect(diff.new).toEqual({ source: 'nix', path: LINK2 });
    expect(diff.storeDir).toBe('/nix/store');
    // Left the closure: everything of generation 1 but idler, including hashonly-1, which only
    // `nix-store -qR` knows of (greeter names it by hash alone, without /nix/store/).
    expect(diff.leftGeneration).toEqual(closure1.filter((p) => !closure2.includes(p)));
    expect(diff.leftGeneration).toContain(paths.hashonly1);
    const rels = diff.changed.map((c: { rel: string }) => c.rel);
    expect(rels).toEqual([
      'env-manifest.nix',
      'greeter-1.0/bin/greeter',
      'greeter-1.0/share/build-id',
      'hashonly-1/data',
      'libgreet-1.0/lib/libgreet.so',
      'user-environment/bin/greeter',
      'user-environment/manifest.nix',
      'user-environment/share/build-id',
      'user-environment/share/data',
      'user-environment/share/doc',
    ]);
    expect(diff.changed).toContainEqual({ rel: 'greeter-1.0/bin/greeter', oldPath: `${paths.greeter1}/bin/greeter`, newPath: `${paths.greeter2}/bin/greeter` });
    // libgreet pairs across its version bump (1.0 → 1.1), like `nix store diff-closures`.
    expect(diff.changed).toContainEqual({ rel: 'libgreet-1.0/lib/libgreet.so', oldPath: `${paths.libgreet1}/lib/libgreet.so`, newPath: `${paths.libgreet2}/lib/libgreet.so` });
    expect(diff.removed).toEqual([{ rel: 'oldonly-1/share/data', path: `${paths.oldOnly}/share/data` }]);
    expect(diff.added).toEqual([{ rel: 'newonly-1/share/data', path: `${paths.newOnly}/share/data` }]);
    // idler's binary, the hardlinked README, the profile's bin/idler link.
    expect(diff.counts).toEqual({ changed: 10, removed: 1, added: 1, unchanged: 3 });
  });

  it('without nix-store on PATH falls back to scanning /nix/store/<hash>- references (the bare hash is missed)', async () => {
    // The contrast that shows the closure above came from nix-store -qR and not from the scan.
    const { code, stdout } = await root.restartd(['diff', LINK1, LINK2, '--json'], { env: { ...root.env, PATH: '/nonexistent' } });
    expect(code).toBe(0);
    const diff = JSON.parse(stdout);
    expect(diff.leftGeneration).toEqual(closure1.filter((p) => !closure2.includes(p) && p !== paths.hashonly1));
  });
});

interface StaleJson {
  pid: number;
  exe?: string;
  files: Array<{ path: string; via: string; kind: string; storePath?: string }>;
}

describe('restartd plan after a real profile switch', () => {
  it('reports exactly the process running generation 1, with left-generation evidence for its exe and its library', async () => {
    const { code, stdout, stderr } = await root.restartd(['plan', '--old', LINK1, '--new', LINK2, '--json']);
    // Other processes of this machine may be stale (no unit facts for them without a bus): warnings only.
    expect(stderr.split('\n').filter((line) => line !== '' && !line.startsWith('restartd: warning: '))).toEqual([]);
    expect(code).toBe(1); // stale processes found
    const plan = JSON.parse(stdout) as { stale: StaleJson[]; actions: Array<{ action: string; pids: number[] }>; generations: { counts: Record<string, number> } };
    expect(plan.generations.counts['leftGeneration']).toBe(closure1.filter((p) => !closure2.includes(p)).length);

    const old = plan.stale.find((s) => s.pid === oldGreeter.pid);
    expect(old?.exe).toBe(`${paths.greeter1}/bin/greeter`);
    expect(old?.files).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: `${paths.greeter1}/bin/greeter`, via: 'exe', kind: 'left-generation', storePath: paths.greeter1 }),
        expect.objectContaining({ path: `${paths.libgreet1}/lib/libgreet.so`, via: 'map', kind: 'left-generation', storePath: paths.libgreet1 }),
      ]),
    );
    expect(old?.files.every((f) => f.kind === 'left-generation')).toBe(true);
    // idler runs a store path both closures hold; the new greeter runs generation 2: neither is stale.
    expect(plan.stale.map((s) => s.pid)).not.toContain(idler.pid);
    expect(plan.stale.map((s) => s.pid)).not.toContain(newGreeter.pid);
    // No other process on the machine holds anything of the old closure.
    expect(plan.stale.filter((s) => s.files.some((f) => f.kind === 'left-generation')).map((s) => s.pid)).toEqual([oldGreeter.pid]);
    // A bare process (no unit): told, never killed.
    expect(plan.actions.filter((a) => a.pids.includes(oldGreeter.pid ?? -1)).map((a) => a.action)).toEqual(['notify']);
  });
});

interface InstalledJson {
  kind: string;
  path: string;
  generations: Array<{ name: string; path: string; current: boolean }>;
}

describe('restartd status --generations with real profile generations', () => {
  it('lists the generations, marks the current one, and counts disk per inode as the closures say', async () => {
    const { stdout } = await root.restartd(['status', '--json', '--generations', PROFILE]);
    const status = JSON.parse(stdout) as { installed: InstalledJson[] };

    // Independently: the closures from nix-store -qR, each regular file's inode counted once.
    const gen1 = inodesOf(closure1);
    const gen2 = inodesOf(closure2);
    const shared = (key: string) => gen2.has(key);
    const sizeOf = (path: string) => lstatSync(root.hostPath(path)).size;
    // What generation 1 shares with the current one is idler's binary and the README hardlinked into
    // both greeters (a different store path, the same inode).
    expect(sum(gen1, shared)).toBe(sizeOf(`${paths.idler}/bin/idler`) + sizeOf(`${paths.greeter1}/share/doc/README`));

    expect(status.installed).toEqual([
      {
        kind: 'nix-profile',
        path: PROFILE,
        generations: [
          {
            name: '1', path: LINK1, current: false,
            bytes: sum(gen1), uniqueBytes: sum(gen1, (k) => !shared(k)), sharedWithCurrentBytes: sum(gen1, shared),
            storePaths: closure1.length, storePathsNotInCurrent: closure1.filter((p) => !closure2.includes(p)).length,
          },
          {
            name: '2', path: LINK2, current: true,
            bytes: sum(gen2), uniqueBytes: sum(gen2, (k) => !gen1.has(k)), sharedWithCurrentBytes: sum(gen2),
            storePaths: closure2.length, storePathsNotInCurrent: 0,
          },
        ],
        reclaimableBytes: sum(gen1, (k) => !shared(k)),
      },
    ]);
  });

  // ~/.nix-profile → /nix/var/nix/profiles/default → default-2-link: the chain is followed to the profile
  // (it was once taken for a release dir's `current` link, listing the whole store as generations).
  it('takes ~/.nix-profile (a link to a profile, as nix-env makes it) for that profile', async () => {
    const { stdout } = await root.restartd(['status', '--json', '--generations', join(root.home, '.nix-profile')]);
    const [source] = (JSON.parse(stdout) as { installed: InstalledJson[] }).installed;
    expect({ kind: source?.kind, generations: source?.generations.map((g) => [g.name, g.current]) }).toEqual({
      kind: 'nix-profile',
      generations: [['1', false], ['2', true]],
    });
  });
});

// Last: it moves the profile back to generation 1.
describe('after nix-env --rollback', () => {
  it('status marks generation 1 current, and plan (2 → 1) reports the process running generation 2 instead', async () => {
    await root.check('nix-env', ['--rollback']);
    expect(readlinkSync(root.hostPath(PROFILE))).toBe('default-1-link');

    const status = JSON.parse((await root.restartd(['status', '--json', '--generations', PROFILE])).stdout) as {
      installed: Array<InstalledJson & { reclaimableBytes: number }>;
    };
    const [source] = status.installed;
    expect(source?.generations.map((g) => [g.name, g.current])).toEqual([['1', true], ['2', false]]);
    const gen1 = inodesOf(closure1);
    expect(source?.reclaimableBytes).toBe(sum(inodesOf(closure2), (k) => !gen1.has(k)));

    const { code, stdout } = await root.restartd(['plan', '--old', LINK2, '--new', LINK1, '--json']);
    expect(code).toBe(1);
    const plan = JSON.parse(stdout) as { stale: StaleJson[] };
    const left = plan.stale.filter((s) => s.files.some((f) => f.kind === 'left-generation'));
    expect(left.map((s) => s.pid)).toEqual([newGreeter.pid]);
    expect(left[0]?.files).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: `${paths.greeter2}/bin/greeter`, via: 'exe', kind: 'left-generation', storePath: paths.greeter2 }),
        expect.objectContaining({ path: `${paths.libgreet2}/lib/libgreet.so`, via: 'map', kind: 'left-generation', storePath: paths.libgreet2 }),
      ]),
    );
    expect(plan.stale.map((s) => s.pid)).not.toContain(oldGreeter.pid);
    expect(plan.stale.map((s) => s.pid)).not.toContain(idler.pid);
  });
});
