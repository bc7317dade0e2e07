// layouts/nix.mjs - a store of its own at ROOT/store. Every component is a store path
// <hash>-<name>-<version> whose hash covers name, version and its inputs' store paths, so an
// unchanged component keeps its path and a dependent of a changed library gets a new one
// (appd). The system is a symlink farm (bin/, lib/, share/ -> component store paths);
// ROOT/profiles/system-N-link point at it and ROOT/current is flipped atomically. Store paths
// are read-only and never deleted. No closure list is written: references are found the way
// Nix finds them, by scanning files and symlink targets for store-path hashes.
import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, readlink, realpath, rename, symlink } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { buildFile } from '../build.mjs';
import { CHANGED, FILES, heldFiles } from '../software.mjs';

// name, version (v2: generation 2's, when one of its files changes), inputs, files
const COMPONENTS = [
  { name: 'libfoo', v1: '1.0', v2: '2.0', files: ['lib/libfoo.so.1'] },
  { name: 'libbar', v1: '1.0', files: ['lib/libbar.so.1'] },
  { name: 'zlib', v1: 'sys', v2: 'sys-p1', files: ['lib/libz.so.1'] },
  { name: 'plugins', v1: '1.0', v2: '1.1', files: ['lib/plugins/libplug.so'] },
  { name: 'plugin-stable', v1: '1.0', files: ['lib/plugins/libplug-stable.so'] },
  { name: 'appd', v1: '1.0', inputs: ['libfoo', 'libbar', 'zlib'], files: ['bin/appd'] },
  { name: 'execd', v1: '1.0', v2: '1.1', inputs: ['libbar'], files: ['bin/execd'] },
  { name: 'stabled', v1: '1.0', inputs: ['libbar'], files: ['bin/stabled'] },
  { name: 'appdata', v1: '1.0', v2: '2.0', files: ['share/config.dat', 'share/table.dat'] },
  { name: 'staticdata', v1: '1.0', files: ['share/static.dat'] },
];
const byName = new Map(COMPONENTS.map((c) => [c.name, c]));
const owner = new Map(COMPONENTS.flatMap((c) => c.files.map((f) => [f, c])));

// Nix's base-32 alphabet (no e, o, u, t) over the first 20 bytes of a sha256: 32 characters
const ALPHABET = '0123456789abcdfghijklmnpqrsvwxyz';
function nixHash(text) {
  const bytes = createHash('sha256').update(text).digest().subarray(0, 20);
  let out = '';
  for (let n = 31; n >= 0; n--) {
    const b = n * 5;
    const i = Math.floor(b / 8);
    const j = b % 8;
    const c = (bytes[i] >> j) | (i + 1 < bytes.length ? bytes[i + 1] << (8 - j) : 0);
    out += ALPHABET[c & 0x1f];
  }
  return out;
}

export function nixLayout(ctx, zlibVersion) {
  const store = `${ctx.root}/store`;
  const profile = (g) => `${ctx.root}/profiles/system-${g}-link`;

  const version = (c, g) => {
    const v = g > 1 && c.v2 ? c.v2 : c.v1;
    return v.replace('sys', zlibVersion);
  };
  const memo = new Map();
  /** Store path of component `name` in generation g. */
  const pathOf = (name, g) => {
    const key = `${name}@${g}`;
    if (!memo.has(key)) {
      const c = byName.get(name);
      const ins = (c.inputs ?? []).map((i) => basename(pathOf(i, g)));
      const v = version(c, g);
      memo.set(key, `${store}/${nixHash([c.name, v, ...ins].join('\n'))}-${c.name}-${v}`);
    }
    return memo.get(key);
  };
  const systemOf = (g) => {
    const parts = COMPONENTS.map((c) => basename(pathOf(c.name, g)));
    return `${store}/${nixHash(['system', g, ...parts].join('\n'))}-system-${g}`;
  };
  /** Real (store) path of a file of generation g. */
  const fileOf = (rel, g) => `${pathOf(owner.get(rel).name, g)}/${rel}`;

  async function buildGeneration(g) {
    for (const c of COMPONENTS) {
      const out = pathOf(c.name, g);
      if (await exists(out)) continue; // store paths are immutable: already built
      const link = {
        lib: (l) => fileOf(l, g),
        runpath: (c.inputs ?? []).map((i) => `${pathOf(i, g)}/lib`).join(':'),
      };
      await Promise.all(c.files.map((f) => buildFile(ctx, f, g, `${out}/${f}`, link)));
      await makeReadOnly(out);
    }
    const sys = systemOf(g);
    for (const rel of FILES) {
      await mkdir(dirname(`${sys}/${rel}`), { recursive: true });
      await symlink(fileOf(rel, g), `${sys}/${rel}`);
    }
    await makeReadOnly(sys);
    await mkdir(`${ctx.root}/profiles`, { recursive: true });
    await symlink(sys, profile(g));
    const tmp = `${ctx.root}/.current.tmp`;
    await symlink(sys, tmp);
    await rename(tmp, `${ctx.root}/current`); // atomic flip
  }

  return {
    launchBase: `${ctx.root}/current`,
    generations: { old: profile(1), new: profile(2), source: 'nix', storeDir: store },
    buildGen1: () => buildGeneration(1),
    switchToGen2: () => buildGeneration(2),

    /** Ground truth by design: held files whose store path generation 2 no longer has. */
    reasons: (role) =>
      heldFiles(role)
        .filter((f) => pathOf(owner.get(f).name, 1) !== pathOf(owner.get(f).name, 2))
        .map((f) => fileOf(f, 1))
        .sort(),

    /** From disk alone: stale iff inside a store path of generation 1's closure, not of 2's. */
    async staleJudge() {
      const [c1, c2] = await Promise.all([closure(store, profile(1)), closure(store, profile(2))]);
      const want = new Set([systemOf(1), ...COMPONENTS.map((c) => pathOf(c.name, 1))]);
      const found = new Set(c1);
      if (want.size !== found.size || [...want].some((p) => !found.has(p))) {
        throw new Error(`testkit: generation 1's closure found by scanning references differs from its design:\n` +
          `  scanned: ${[...found].map((p) => basename(p)).sort().join(' ')}\n  design:  ${[...want].map((p) => basename(p)).sort().join(' ')}`);
      }
      const superseded = [...c1].filter((p) => !c2.has(p)).map((p) => `${p}/`);
      return ({ path }) => superseded.some((s) => path.startsWith(s));
    },
  };
}

/** Store paths reachable from `link`, found by scanning file contents and symlink targets for hashes. */
async function closure(store, link) {
  const hashes = new Map((await readdir(store)).map((e) => [e.slice(0, 32), `${store}/${e}`]));
  const top = storePathOf(store, await realpath(link));
  const seen = new Set([top]);
  const queue = [top];
  while (queue.length) {
    for (const text of await contents(queue.pop())) {
      for (const [h, p] of hashes) {
        if (!seen.has(p) && text.includes(h)) {
          seen.add(p);
          queue.push(p);
        }
      }
    }
  }
  return seen;
}

function storePathOf(store, path) {
  if (!path.startsWith(`${store}/`)) throw new Error(`testkit: ${path} is not in ${store}`);
  return `${store}/${path.slice(store.length + 1).split('/')[0]}`;
}

/** Contents (Buffer) of every file, and targets of every symlink, under p. */
async function contents(p) {
  const st = await lstat(p);
  if (st.isSymbolicLink()) return [Buffer.from(await readlink(p))];
  if (st.isFile()) return [await readFile(p)];
  if (!st.isDirectory()) return [];
  const out = [];
  for (const e of await readdir(p)) out.push(...(await contents(`${p}/${e}`)));
  return out;
}

async function makeReadOnly(p) {
  const st = await lstat(p);
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) for (const e of await readdir(p)) await makeReadOnly(`${p}/${e}`);
  await chmod(p, st.mode & 0o555);
}

async function exists(p) {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}
