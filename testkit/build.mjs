// build.mjs - build the software's files for a generation (see software.mjs).
import { appendFile, copyFile, mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { source } from './compile.mjs';
import { CHANGED, FILES } from './software.mjs';

const LIBS = {
  'lib/libfoo.so.1': 'foo_version',
  'lib/libbar.so.1': 'bar_version',
  'lib/plugins/libplug.so': 'plugin_version',
  'lib/plugins/libplug-stable.so': 'plugin_version',
};
const DAEMONS = {
  'bin/appd': { libs: ['lib/libfoo.so.1', 'lib/libbar.so.1', 'lib/libz.so.1'], defines: ['-DTK_APPD'] },
  'bin/execd': { libs: ['lib/libbar.so.1'], defines: [] },
  'bin/stabled': { libs: ['lib/libbar.so.1'], defines: [] },
};
const DATA_KIB = { 'share/config.dat': 8, 'share/table.dat': 64, 'share/static.dat': 4 };

/** Libraries (relative paths) a binary links against; empty for other files. */
export const linkedLibs = (rel) => DAEMONS[rel]?.libs ?? [];

/**
 * Build file `rel` of generation `gen` at `out`. Files generation 2 does not change are
 * built identically for every generation. Binaries need `link`: `lib(rel)` gives the path
 * of each library to link against, `runpath` the DT_RUNPATH to record.
 * ctx: { cc (from makeCompiler), zlib (the system's libz.so.1) }.
 */
export async function buildFile(ctx, rel, gen, out, link) {
  const g = CHANGED.has(rel) ? gen : 1;
  await mkdir(dirname(out), { recursive: true });
  if (rel in LIBS) {
    const name = basename(rel);
    await ctx.cc(out, {
      inputs: [source('lib.c')],
      flags: ['-shared', '-fPIC', `-DTK_NAME="${name}"`, `-DTK_SYM=${LIBS[rel]}`, `-DTK_GEN=${g}`, `-Wl,-soname,${name}`],
    });
  } else if (rel in DAEMONS) {
    const d = DAEMONS[rel];
    await ctx.cc(out, {
      inputs: [source('daemon.c'), ...d.libs.map((l) => link.lib(l))],
      flags: [...d.defines, `-DTK_APP=${basename(rel)}`, `-DTK_GEN=${g}`, `-Wl,-rpath,${link.runpath}`, '-Wl,--enable-new-dtags'],
    });
  } else if (rel === 'lib/libz.so.1') {
    await copyFile(ctx.zlib, out);
    if (g > 1) await appendFile(out, `\nrestartd testkit: generation ${g} of this libz copy\n`);
  } else if (rel in DATA_KIB) {
    const head = `restartd testkit ${rel} generation ${g}\n`;
    const fill = String.fromCharCode(96 + g).repeat(DATA_KIB[rel] * 1024 - head.length);
    await writeFile(out, head + fill, { mode: 0o644 });
  } else {
    throw new Error(`testkit: no recipe for ${rel}`);
  }
}

/**
 * Build generation `gen` as a plain tree at `dir` (binaries find their libraries through
 * RUNPATH $ORIGIN/../lib, so the tree works wherever it is). `only` limits it to some files;
 * binaries link against the libraries in `linkTree` (default: `dir` itself).
 */
export async function buildTree(ctx, dir, gen, { only = FILES, linkTree = dir } = {}) {
  const link = { lib: (l) => `${linkTree}/${l}`, runpath: '$ORIGIN/../lib' };
  const keep = new Set(only);
  const wanted = FILES.filter((f) => keep.has(f));
  const build = (f) => buildFile(ctx, f, gen, `${dir}/${f}`, link);
  await Promise.all(wanted.filter((f) => !(f in DAEMONS)).map(build));
  await Promise.all(wanted.filter((f) => f in DAEMONS).map(build));
}
