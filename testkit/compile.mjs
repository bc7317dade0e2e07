// compile.mjs - run gcc on the testkit's C sources, cached by content hash.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, realpath, rename, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Absolute path of a C source in testkit/c. */
export const source = (name) => fileURLToPath(new URL(`./c/${name}`, import.meta.url));

/**
 * A compiler whose outputs are cached in cacheDir. `inputs` are files whose content matters
 * (sources, libraries linked against), `flags` everything else; the cache key covers both.
 * Each call copies the cached output to `out` (a fresh inode every time).
 */
export function makeCompiler(cacheDir) {
  return async function cc(out, { inputs, flags }) {
    const h = createHash('sha256').update(JSON.stringify(flags));
    for (const f of inputs) h.update('\0').update(await readFile(f));
    const cached = join(cacheDir, h.digest('hex').slice(0, 32));
    if (!(await exists(cached))) {
      await mkdir(cacheDir, { recursive: true });
      const tmp = `${cached}.${randomBytes(6).toString('hex')}.tmp`; // concurrent builds of one key don't collide
      try {
        await run('gcc', ['-O2', '-g0', '-w', ...inputs, ...flags, '-o', tmp], { maxBuffer: 1 << 20 });
      } catch (e) {
        throw new Error(`testkit: gcc failed for ${out}: ${e.stderr || e.message}`);
      }
      await rename(tmp, cached);
    }
    await mkdir(dirname(out), { recursive: true });
    await copyFile(cached, out);
  };
}

async function exists(p) {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** The real file (symlinks resolved) of a system library by soname (e.g. libz.so.1), found with `ldconfig -p`. */
export async function systemLibrary(soname) {
  let listing = '';
  try {
    listing = (await run('ldconfig', ['-p'], { maxBuffer: 16 << 20 })).stdout;
  } catch {
    try {
      listing = (await run('/sbin/ldconfig', ['-p'], { maxBuffer: 16 << 20 })).stdout;
    } catch { /* fall back to the usual dirs below */ }
  }
  const hits = [];
  for (const line of listing.split('\n')) {
    const m = /^\s*(\S+) \(([^)]*)\) => (\S+)$/.exec(line);
    if (m && m[1] === soname) hits.push({ arch: m[2], path: m[3] });
  }
  const native = hits.find((h) => /x86-64|AArch64|64bit/.test(h.arch)) ?? hits[0];
  const candidates = native ? [native.path] : [];
  candidates.push(...['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib64', '/usr/lib64', '/usr/lib'].map((d) => join(d, soname)));
  for (const c of candidates) if (await exists(c)) return realpath(c);
  throw new Error(`testkit: system library ${soname} not found (ldconfig -p)`);
}
