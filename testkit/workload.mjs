// workload.mjs - restartd's workload generator: build generation 1 of a small piece of
// software, run real processes from it, switch to generation 2 underneath them, and know
// exactly which processes are now stale and why. See README.md.
import { chmod, lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { makeCompiler, systemLibrary } from './compile.mjs';
import { fillGroundTruth, verifyGroundTruth } from './ground-truth.mjs';
import { dirLayout } from './layouts/dir.mjs';
import { inplaceLayout } from './layouts/inplace.mjs';
import { nixLayout } from './layouts/nix.mjs';
import { endProcesses } from './proc.mjs';
import { assignRoles, daemonCommand } from './software.mjs';
import { buildSpawner, spawnDaemons } from './spawn.mjs';

const MODES = ['inplace', 'nix', 'dir'];
const TOPOLOGIES = ['tree', 'flat'];
// restartd (like needrestart) ignores deleted scratch files under these on purpose
const FORBIDDEN = ['/tmp', '/run', '/var', '/home', '/dev', '/proc', '/sys'];
const MARKER = '.testkit-workload';

class Workload {
  #layout;
  constructor(state, layout) {
    this.root = state.root;
    this.mode = state.mode;
    this.topology = state.topology;
    this.processes = state.processes;
    this.generations = layout.generations;
    this.switched = state.switched;
    this.timings = state.timings ?? {};
    this.#layout = layout;
  }

  /** Apply generation 2, fill in the ground truth, and check it against /proc. */
  async switch() {
    if (this.switched) throw new Error(`testkit: ${this.root} is already switched`);
    let t = performance.now();
    await this.#layout.switchToGen2();
    fillGroundTruth(this.processes, this.#layout);
    this.switched = true;
    await saveState(this);
    this.timings.switchMs = Math.round(performance.now() - t);
    t = performance.now();
    await verifyGroundTruth(this.processes, this.#layout, this);
    this.timings.verifyMs = Math.round(performance.now() - t);
  }

  /** Kill exactly the processes started (pid + start time must match), wait, remove the root. */
  async cleanup() {
    await endProcesses(this.processes);
    await removeRoot(this.root);
  }

  toJSON() {
    const { root, mode, topology, switched, generations, processes } = this;
    return { version: 1, root, mode, topology, switched, generations, processes };
  }
}

/** Build generation 1, start the processes; resolves once every one holds all its files. */
export async function startWorkload(opts) {
  const o = checkOptions(opts);
  await claimRoot(o.root);
  let started = [];
  try {
    let t = performance.now();
    const ctx = await makeContext(o.root);
    const layout = makeLayout(o.mode, ctx);
    const [spawner] = await Promise.all([buildSpawner(ctx), layout.buildGen1()]);
    const buildMs = Math.round(performance.now() - t);

    t = performance.now();
    const roles = assignRoles(o.procs, o.cleanRatio);
    const count = {};
    const commands = roles.map((r) => daemonCommand(r, layout.launchBase, (count[r] = (count[r] ?? -1) + 1)));
    const { supervisor, daemons } = await spawnDaemons(spawner, o.topology, commands, `${ctx.tk}/daemons.log`).catch((e) => {
      started = e.started ?? [];
      throw e;
    });
    const entry = (p, role) => ({ pid: p.pid, startTime: p.startTime, role, stale: false, reasons: [] });
    const processes = [...(supervisor ? [entry(supervisor, 'supervisor')] : []), ...daemons.map((d, i) => entry(d, roles[i]))];
    started = processes;
    const timings = { buildMs, startMs: Math.round(performance.now() - t) };
    const w = new Workload({ ...o, processes, switched: false, timings }, layout);
    await saveState(w);
    return w;
  } catch (e) {
    await endProcesses(started).catch(() => {});
    await removeRoot(o.root).catch(() => {});
    throw e;
  }
}

/** A Workload for a root started earlier (e.g. by make-workload.mjs in another process). */
export async function attachWorkload(root) {
  root = resolve(root);
  const state = JSON.parse(await readFile(`${root}/ground-truth.json`, 'utf8'));
  return new Workload({ ...state, root }, makeLayout(state.mode, await makeContext(root)));
}

/** Clean up a root from its pids.tsv: end exactly those processes, then remove the root. */
export async function cleanupRoot(root) {
  root = resolve(root);
  let tsv = '';
  try {
    tsv = await readFile(`${root}/pids.tsv`, 'utf8');
  } catch { /* nothing started */ }
  const procs = tsv
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split('\t'))
    .map(([pid, startTime, role]) => ({ pid: Number(pid), startTime: Number(startTime), role }));
  await endProcesses(procs);
  await removeRoot(root);
}

function checkOptions(opts) {
  const root = resolve(String(opts?.root ?? ''));
  const { procs, mode, topology = 'tree', cleanRatio = 0 } = opts ?? {};
  if (!opts?.root || !opts.root.startsWith('/') || root === '/' || /[\t\n]/.test(root)) {
    throw new Error(`testkit: root must be an absolute path (got ${opts?.root})`);
  }
  const bad = FORBIDDEN.find((f) => root === f || root.startsWith(`${f}/`));
  if (bad) throw new Error(`testkit: root ${root} is under ${bad}, where restartd ignores deleted files by design`);
  if (!Number.isInteger(procs) || procs < 1) throw new Error(`testkit: procs must be a positive integer (got ${procs})`);
  if (!MODES.includes(mode)) throw new Error(`testkit: mode must be one of ${MODES.join(', ')} (got ${mode})`);
  if (!TOPOLOGIES.includes(topology)) throw new Error(`testkit: topology must be tree or flat (got ${topology})`);
  if (!(cleanRatio >= 0 && cleanRatio <= 1)) throw new Error(`testkit: cleanRatio must be in 0..1 (got ${cleanRatio})`);
  return { root, procs, mode, topology, cleanRatio };
}

async function claimRoot(root) {
  const st = await lstat(root).catch(() => undefined);
  if (st && !(st.isDirectory() && (await readdir(root)).length === 0)) {
    throw new Error(`testkit: ${root} exists and is not an empty directory`);
  }
  await mkdir(root, { recursive: true });
  await writeFile(`${root}/${MARKER}`, 'created by restartd testkit; removed by cleanup\n');
}

async function makeContext(root) {
  const tk = `${root}/.testkit`;
  const zlib = await systemLibrary('libz.so.1');
  return { root, tk, cc: makeCompiler(`${tk}/cache`), zlib };
}

function makeLayout(mode, ctx) {
  if (mode === 'inplace') return inplaceLayout(ctx);
  if (mode === 'dir') return dirLayout(ctx);
  const zv = /^libz\.so\.(\d+(?:\.\d+)*)$/.exec(basename(ctx.zlib))?.[1] ?? '1';
  return nixLayout(ctx, zv);
}

/** ROOT/ground-truth.json (everything) and ROOT/pids.tsv (pid, start time, role, index). */
async function saveState(w) {
  await writeFile(`${w.root}/ground-truth.json`, JSON.stringify(w, null, 1) + '\n');
  let i = 0;
  const rows = w.processes.map((p) => [p.pid, p.startTime, p.role, p.role === 'supervisor' ? '-' : i++].join('\t'));
  await writeFile(`${w.root}/pids.tsv`, ['# pid\tstartTime\trole\tindex', ...rows].join('\n') + '\n');
}

async function removeRoot(root) {
  const st = await lstat(root).catch(() => undefined);
  if (!st) return;
  if (!(await lstat(`${root}/${MARKER}`).catch(() => undefined))) {
    throw new Error(`testkit: ${root} has no ${MARKER}: not a testkit root, not removing it`);
  }
  await makeWritable(root); // store paths are read-only
  await rm(root, { recursive: true, force: true });
}

async function makeWritable(dir) {
  await chmod(dir, 0o755);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) await makeWritable(`${dir}/${e.name}`);
  }
}
