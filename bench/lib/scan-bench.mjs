// The process-scan benchmark: one workload per (mode, N), every tool timed against it.
import { existsSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { loadavg } from 'node:os';
import { cpuSnapshot, otherCpuShare } from './host.mjs';
import { join } from 'node:path';
import { timedRun } from './exec.mjs';
import { onCleanup, isShuttingDown } from './cleanup.mjs';
import { TOOLS, parseRestartdReport, toolEnv } from './tools.mjs';
import { accuracy, max, median, min, ratio } from './stats.mjs';

/** A tool whose first run takes longer than this gets at most SLOW_RUNS timed runs (keeps the default run short). */
const SLOW_MS = 15_000;
const SLOW_RUNS = 3;

/** Loads the project's testkit (testkit/workload.mjs), or explains why it cannot. */
export async function loadTestkit(repo) {
  // RESTARTD_BENCH_TESTKIT: another workload module with the same API (for developing the bench itself).
  const file = process.env.RESTARTD_BENCH_TESTKIT || join(repo, 'testkit/workload.mjs');
  if (!existsSync(file)) throw new Error(`${file} does not exist: the process scan needs the testkit (or run with --no-scan)`);
  const mod = await import(pathToFileURL(file).href);
  if (typeof mod.startWorkload !== 'function') throw new Error(`${file} does not export startWorkload`);
  return mod;
}

function alive(pid) {
  return existsSync(`/proc/${pid}`);
}

/**
 * Runs one (mode, N) case. Returns
 * `{ mode, n, topology, workload: {...}, tools: { [name]: ToolResult } }`.
 */
export async function benchScanCase({ testkit, repo, mode, n, topology, cleanRatio, tools, runs, timeoutMs, tmpDir, floorBin, log }) {
  const root = `/srv/restartd-bench-${mode}-${n}-${randomBytes(3).toString('hex')}`;
  const started = Date.now();
  let workload = null;
  let starting = null;
  const cleanup = onCleanup(`workload ${root}`, async () => {
    // A ctrl-c while the workload starts: wait for it to be up, then clean it up (it knows its PIDs, we do not).
    if (!workload && starting) workload = await starting.catch(() => null);
    if (workload) await workload.cleanup();
  });
  try {
    log(`  starting workload: mode=${mode} N=${n} topology=${topology} at ${root}`);
    starting = testkit.startWorkload({ root, procs: n, mode, topology, ...(cleanRatio === undefined ? {} : { cleanRatio }) });
    workload = await starting;
    if (isShuttingDown()) throw new Error('interrupted');
    await workload.switch();
    const buildMs = Date.now() - started;
    const processes = workload.processes.map(({ pid, role, stale, startTime }) => ({ pid, role, stale, startTime }));
    const staleCount = processes.filter((p) => p.stale).length;
    log(`  workload ready in ${(buildMs / 1000).toFixed(1)} s: ${processes.length} processes, ${staleCount} stale after the switch`);

    const hostProcesses = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).length;
    const loadBefore = loadavg()[0];
    const cpuBefore = cpuSnapshot();
    const ctx = { repo, workload, floorBin };
    const env = toolEnv();
    const results = {};
    const active = [];
    for (const name of tools) {
      const tool = TOOLS[name];
      const missing = tool.missing(ctx);
      if (missing) {
        results[name] = { tool: name, skipped: missing };
        log(`  ${name}: skipped (${missing})`);
        continue;
      }
      results[name] = { tool: name, command: tool.describe(ctx), runs: [], failures: [] };
      active.push(name);
    }

    // First, untimed: the run the flagged PIDs come from (warms caches too). Where the timed command
    // does not say which PIDs it flags (needrestart, checkrestart), a verbose run stands in for it.
    for (const name of [...active]) {
      if (isShuttingDown()) throw new Error('interrupted');
      const tool = TOOLS[name];
      const { cmd, args } = tool.timed(ctx);
      const first = await timedRun(cmd, args, { env, tmpDir, timeoutMs });
      if (isShuttingDown()) throw new Error('interrupted');
      const r = results[name];
      r.firstRunMs = Math.round(first.wallMs);
      if (first.timedOut || !tool.okCodes.includes(first.code)) {
        r.skipped = `${first.timedOut ? `timed out after ${timeoutMs / 1000} s` : `exit ${first.code ?? first.signal}`}: ${first.stderr.trim().split('\n').slice(-3).join(' | ')}`;
        log(`  ${name}: failed (${r.skipped})`);
        active.splice(active.indexOf(name), 1);
        continue;
      }
      if (tool.flagged) {
        const t = Date.now();
        try {
          const { pids, extra } = await tool.flagged(ctx, first);
          r.accuracy = accuracy(processes, pids);
          if (extra) Object.assign(r, extra);
          if (r.parseWarning) log(`  ${name}: warning: ${r.parseWarning}`);
        } catch (error) {
          if (isShuttingDown()) throw new Error('interrupted');
          r.accuracyError = error.message;
          log(`  ${name}: cannot read the flagged PIDs: ${error.message}`);
        }
        r.flaggedRunMs = Date.now() - t;
      }
      r.plannedRuns = first.wallMs > SLOW_MS ? Math.min(runs, SLOW_RUNS) : runs;
    }

    // Timed runs, round-robin over the tools so that drift (other load, cache state) hits all alike.
    for (let i = 0; i < runs; i++) {
      for (const name of active) {
        const r = results[name];
        if (r.runs.length >= r.plannedRuns) continue;
        if (isShuttingDown()) throw new Error('interrupted');
        const { cmd, args } = TOOLS[name].timed(ctx);
        // restartd's output is kept (read after the clock stops) for its self-reported scan time.
        const run = await timedRun(cmd, args, { env, tmpDir, timeoutMs, keepOutput: name === 'restartd' });
        if (isShuttingDown()) throw new Error('interrupted');
        if (run.timedOut || !TOOLS[name].okCodes.includes(run.code)) {
          r.failures.push({ code: run.code, signal: run.signal, timedOut: run.timedOut, stderr: run.stderr.slice(-500) });
          continue;
        }
        const entry = { wallMs: round1(run.wallMs), rssKb: run.rssKb, cpuMs: run.cpuMs };
        if (name === 'restartd') {
          try {
            const report = parseRestartdReport(run.stdout);
            entry.scanMs = report.scanMs;
            entry.scanned = report.scanned;
          } catch {
            /* the first run's output was checked already */
          }
        }
        r.runs.push(entry);
      }
    }
    for (const name of active) summarise(results[name]);

    const loadAfter = loadavg()[0];
    const otherCpu = otherCpuShare(cpuBefore, cpuSnapshot());
    const hostProcessesAfter = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).length;
    const intact = processes.filter((p) => !alive(p.pid)).map((p) => p.pid);
    if (intact.length) log(`  warning: ${intact.length} workload processes died during the benchmark (pids ${intact.slice(0, 10).join(', ')}…)`);

    const rd = results.restartd;
    const ratios = {};
    for (const name of active) {
      if (name === 'restartd' || name === 'floor') continue;
      ratios[`${name}/restartd`] = round2(ratio(results[name].wallMedianMs, rd?.wallMedianMs));
    }
    if (results.floor?.wallMedianMs) ratios['restartd/floor'] = round2(ratio(rd?.wallMedianMs, results.floor.wallMedianMs));
    if (results.floor?.wallMedianMs && rd?.scanMs != null) ratios['restartdScan/floor'] = round2(ratio(rd.scanMs, results.floor.wallMedianMs));

    return {
      mode,
      n,
      topology,
      root,
      workload: {
        processes: processes.length,
        stale: staleCount,
        roles: countRoles(processes),
        buildMs,
        hostProcesses,
        hostProcessesAfter,
        load: { before: round2(loadBefore), after: round2(loadAfter) },
        otherCpu,
        diedDuringBench: intact.length,
        generations: workload.generations,
      },
      tools: results,
      ratios,
    };
  } finally {
    const t = Date.now();
    await cleanup();
    log(`  workload cleaned up in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
}

/** Fills a tool result's medians, min, max and peak RSS from its runs (scan, idle). */
export function summarise(r) {
  const walls = r.runs.map((x) => x.wallMs);
  r.wallMedianMs = round1(median(walls));
  r.wallMinMs = round1(min(walls));
  r.wallMaxMs = round1(max(walls));
  r.rssPeakKb = max(r.runs.map((x) => x.rssKb));
  r.rssMedianKb = median(r.runs.map((x) => x.rssKb));
  r.cpuMedianMs = median(r.runs.map((x) => x.cpuMs));
  if (r.runs.some((x) => x.scanMs != null)) {
    r.firstRunScanMs = r.scanMs ?? null;
    r.scanMs = median(r.runs.map((x) => x.scanMs));
  }
}

function countRoles(processes) {
  const roles = {};
  for (const p of processes) {
    const entry = (roles[p.role] ??= { total: 0, stale: 0 });
    entry.total++;
    if (p.stale) entry.stale++;
  }
  return roles;
}

const round1 = (x) => (x == null ? null : Math.round(x * 10) / 10);
const round2 = (x) => (x == null ? null : Math.round(x * 100) / 100);
