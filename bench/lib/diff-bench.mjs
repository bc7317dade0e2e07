// The diff benchmark: two large trees, mostly hardlinks of each other (an OSTree-like switch), and
// the same NEW as a plain copy; `restartd diff OLD NEW --json` against `diff -rq OLD NEW` for both.
import { mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { run, timedRun } from './exec.mjs';
import { onCleanup, isShuttingDown } from './cleanup.mjs';
import { max, median, min, ratio } from './stats.mjs';
import { cpuSnapshot, otherCpuShare } from './host.mjs';
import { restartdBin } from './tools.mjs';

// 100 directories of 1000 files at the default 100 000 files.
const FILES_PER_DIR = 1000;

/** Deterministic PRNG (mulberry32), so that every run generates the same trees. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Relative path of file number i: d<dir>/f<nnn>.dat */
function relOf(i) {
  return join(`d${Math.floor(i / FILES_PER_DIR)}`, `f${String(i % FILES_PER_DIR).padStart(3, '0')}.dat`);
}

/**
 * Writes OLD (`files` regular files, 100..4 KiB), NEW as `cp -al OLD NEW`, then in NEW: `changed` files
 * rewritten (half with the same size: only the content tells them apart), `removed` deleted and
 * `added` new ones; then COPY as `cp -a NEW COPY` (the same changes, no inode shared with OLD).
 * Returns the generated truth.
 */
export async function makeTrees(root, { files, changed, removed, added }) {
  const oldDir = join(root, 'old');
  const newDir = join(root, 'new');
  const rand = prng(42);
  const pool = randomBytes(8192);
  const dirs = new Set();
  const sizes = new Uint16Array(files);
  for (let i = 0; i < files; i++) {
    if (i % 1000 === 0 && isShuttingDown()) throw new Error('interrupted');
    const rel = relOf(i);
    const dir = join(oldDir, rel, '..');
    if (!dirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      dirs.add(dir);
    }
    const size = (sizes[i] = 100 + Math.floor(rand() * 4000));
    const header = Buffer.from(`file ${i}\n`);
    writeFileSync(join(oldDir, rel), Buffer.concat([header, pool.subarray(0, size - header.length)]));
  }
  await run('cp', ['-al', oldDir, newDir]);
  if (isShuttingDown()) throw new Error('interrupted');

  // Spread the changes over the tree; changed and removed files never overlap.
  const step = Math.max(1, Math.floor(files / (changed + removed + 1)));
  const picks = [];
  for (let k = 1; picks.length < changed + removed && k * step < files; k++) picks.push(k * step);
  const changedIdx = picks.slice(0, changed);
  const removedIdx = picks.slice(changed, changed + removed);
  changedIdx.forEach((i, j) => {
    const path = join(newDir, relOf(i));
    const header = Buffer.from(`file ${i}\n`);
    // Hardlinked: unlink first, or the write would change OLD too.
    unlinkSync(path);
    const size = sizes[i];
    const body = Buffer.from(pool.subarray(0, size - header.length));
    if (j % 2 === 0) body[body.length - 1] ^= 0xff; // same size, other bytes
    else body.fill(0x41, 0, 16);
    writeFileSync(path, j % 2 === 0 ? Buffer.concat([header, body]) : Buffer.concat([header, body, Buffer.from('grown\n')]));
  });
  for (const i of removedIdx) unlinkSync(join(newDir, relOf(i)));
  for (let k = 0; k < added; k++) {
    const rel = join(relOf((k * 997) % files), '..', `new-${k}.dat`);
    writeFileSync(join(newDir, rel), `added ${k}\n`);
  }
  const copyDir = join(root, 'copy');
  await run('cp', ['-a', newDir, copyDir]);
  return { oldDir, newDir, copyDir, files, changed: changedIdx.length, removed: removedIdx.length, added };
}

/** The filesystem type of a directory (`stat -f -c %T`), or null. */
async function fsType(dir) {
  try {
    return (await run('stat', ['-f', '-c', '%T', dir])).stdout.trim() || null;
  } catch {
    return null;
  }
}

/**
 * Reads changed/added/removed counts from `restartd diff --json`, whatever the exact shape:
 * `{ counts: {...} }`, `{ generations: { counts } }`, or arrays `changed` / `added` / `removed`.
 */
export function diffCounts(json) {
  const pick = (o) => (o && typeof o.changed === 'number' ? { changed: o.changed, added: o.added, removed: o.removed } : null);
  const fromArrays = (o) =>
    o && Array.isArray(o.changed) ? { changed: o.changed.length, added: o.added?.length ?? null, removed: o.removed?.length ?? null } : null;
  return (
    pick(json.counts) ??
    pick(json.generations?.counts) ??
    pick(json.summary) ??
    fromArrays(json) ??
    fromArrays(json.changeSet) ??
    pick(json) ??
    null
  );
}

/** `diff -rq` lines → counts: "Files … differ" and "Only in OLD…" / "Only in NEW…". */
function diffRqCounts(stdout, oldDir, newDir) {
  let changed = 0;
  let removed = 0;
  let added = 0;
  for (const line of stdout.split('\n')) {
    if (/^Files .* differ$/.test(line)) changed++;
    else if (line.startsWith(`Only in ${oldDir}`)) removed++;
    else if (line.startsWith(`Only in ${newDir}`)) added++;
  }
  return { changed, added, removed };
}

export async function benchDiff({ repo, files, runs, timeoutMs, tmpDir, log, baseDir = '/srv' }) {
  const root = join(baseDir, `restartd-bench-diff-${randomBytes(3).toString('hex')}`);
  const cleanup = onCleanup(`diff trees ${root}`, async () => {
    await run('rm', ['-rf', '--one-file-system', root]);
  });
  try {
    const spec = { files, changed: 300, removed: 100, added: 100 };
    if (files < 2000) Object.assign(spec, { changed: Math.ceil(files / 20), removed: Math.ceil(files / 50), added: Math.ceil(files / 50) });
    log(`  generating two ${files}-file trees at ${root} (${spec.changed} changed, ${spec.added} added, ${spec.removed} removed)…`);
    const t0 = Date.now();
    const truth = await makeTrees(root, spec);
    const genMs = Date.now() - t0;
    log(`  trees ready in ${(genMs / 1000).toFixed(1)} s`);
    const hardlinks = await timePair({ repo, runs, timeoutMs, tmpDir, log }, truth, truth.newDir);
    const copies = await timePair({ repo, runs, timeoutMs, tmpDir, log }, truth, truth.copyDir);
    return {
      root,
      filesystem: await fsType(baseDir),
      truth: { files: truth.files, changed: truth.changed, added: truth.added, removed: truth.removed },
      generateMs: genMs,
      ...hardlinks,
      copies,
    };
  } finally {
    const t = Date.now();
    await cleanup();
    log(`  diff trees removed in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
}

/** Times `restartd diff` and `diff -rq` of OLD against `newDir` (round-robin) and checks their counts. */
async function timePair({ repo, runs, timeoutMs, tmpDir, log }, truth, newDir) {
  const env = { ...process.env, LC_ALL: 'C' };
  const bin = restartdBin(repo);
  const cli = join(repo, bin);
  const tools = {
    restartd: { command: `node ${bin} diff OLD NEW --json`, cmd: process.execPath, args: [cli, 'diff', truth.oldDir, newDir, '--json'], okCodes: [0, 1] },
    'diff -rq': { command: 'diff -rq OLD NEW', cmd: 'diff', args: ['-rq', truth.oldDir, newDir], okCodes: [0, 1] },
  };
  const results = {};
  const cpuBefore = cpuSnapshot();
  for (const [name, t] of Object.entries(tools)) {
    // Untimed first run: warms the dentry/inode caches for both and gives the output to check.
    const first = await timedRun(t.cmd, t.args, { env, tmpDir, timeoutMs });
    if (isShuttingDown()) throw new Error('interrupted');
    const r = (results[name] = { tool: name, command: t.command, runs: [] });
    if (first.timedOut || !t.okCodes.includes(first.code)) {
      r.skipped = `${first.timedOut ? 'timed out' : `exit ${first.code ?? first.signal}`}: ${first.stderr.trim().split('\n').slice(-3).join(' | ')}`;
      log(`  ${name}: failed (${r.skipped})`);
      continue;
    }
    if (name === 'restartd') {
      try {
        r.counts = diffCounts(JSON.parse(first.stdout));
        if (!r.counts) r.countsError = `no changed/added/removed counts found in the JSON (keys: ${Object.keys(JSON.parse(first.stdout)).join(', ')})`;
      } catch (error) {
        r.countsError = `not JSON: ${error.message}`;
      }
    } else {
      r.counts = diffRqCounts(first.stdout, truth.oldDir, newDir);
    }
    const c = r.counts;
    r.countsMatch = !!c && c.changed === truth.changed && c.added === truth.added && c.removed === truth.removed;
  }
  for (let i = 0; i < runs; i++) {
    for (const [name, t] of Object.entries(tools)) {
      if (results[name].skipped) continue;
      if (isShuttingDown()) throw new Error('interrupted');
      const rr = await timedRun(t.cmd, t.args, { env, tmpDir, timeoutMs, keepOutput: false });
      if (isShuttingDown()) throw new Error('interrupted');
      if (rr.timedOut || !t.okCodes.includes(rr.code)) continue;
      results[name].runs.push({ wallMs: Math.round(rr.wallMs * 10) / 10, rssKb: rr.rssKb, cpuMs: rr.cpuMs });
    }
  }
  for (const r of Object.values(results)) {
    const walls = r.runs.map((x) => x.wallMs);
    r.wallMedianMs = median(walls);
    r.wallMinMs = min(walls);
    r.wallMaxMs = max(walls);
    r.rssPeakKb = max(r.runs.map((x) => x.rssKb));
  }
  const otherCpu = otherCpuShare(cpuBefore, cpuSnapshot());
  return { otherCpu, tools: results, ratio: { 'restartd/diff -rq': ratio(results.restartd.wallMedianMs, results['diff -rq'].wallMedianMs) } };
}
