#!/usr/bin/env node
// `npm run bench`: restartd against needrestart, checkrestart and a raw /proc floor (process scan),
// and against `diff -rq` (generation diff). See bench/README.md.
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, release, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBenchArgs, USAGE } from './lib/args.mjs';
import { installSignalHandlers, isShuttingDown, onCleanup, runAllCleanups, signalExit } from './lib/cleanup.mjs';
import { run, timedRun } from './lib/exec.mjs';
import { buildFloor } from './lib/floor.mjs';
import { benchScanCase, loadTestkit } from './lib/scan-bench.mjs';
import { benchDiff } from './lib/diff-bench.mjs';
import { benchIdle } from './lib/idle-bench.mjs';
import { evaluateTargets, renderMarkdown } from './lib/report.mjs';
import { restartdBin } from './lib/tools.mjs';
import { median } from './lib/stats.mjs';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const REPO = dirname(BENCH_DIR);

const log = (message) => process.stderr.write(`${message}\n`);

async function packageVersion(name) {
  try {
    const { stdout } = await run('dpkg-query', ['-W', '-f', '${Version}', name]);
    return stdout.trim() || null;
  } catch {
    return null;
  }
}

async function machineInfo(tmpDir) {
  const startups = [];
  for (let i = 0; i < 5; i++) startups.push((await timedRun(process.execPath, ['-e', '0'], { tmpDir })).wallMs);
  // restartd's own start-up (module graph, CLI parse) without a scan: the "start-up" share of its time.
  const own = [];
  for (let i = 0; i < 5; i++) own.push((await timedRun(process.execPath, [join(REPO, restartdBin(REPO)), '--version'], { tmpDir })).wallMs);
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model?.trim() ?? 'unknown',
    memGb: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.versions.node,
    uid: process.getuid?.() ?? null,
    versions: {
      needrestart: await packageVersion('needrestart'),
      'debian-goodies': await packageVersion('debian-goodies'),
      lsof: await packageVersion('lsof'),
    },
    loadAtStart: Math.round(loadavg()[0] * 100) / 100,
    processesAtStart: readdirSync('/proc').filter((d) => /^\d+$/.test(d)).length,
    nodeStartupMs: Math.round(median(startups) * 10) / 10,
    restartdStartupMs: Math.round(median(own) * 10) / 10,
  };
}

async function main() {
  let config;
  try {
    config = parseBenchArgs(process.argv.slice(2));
  } catch (error) {
    log(error.message);
    return 3;
  }
  if (config.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  installSignalHandlers(log);
  const began = Date.now();
  const startedAt = new Date().toISOString();
  const outDir = config.outDir ?? join(BENCH_DIR, 'out');
  const tmpDir = mkdtempSync(join(tmpdir(), 'restartd-bench-'));
  onCleanup(`temp dir ${tmpDir}`, () => run('rm', ['-rf', tmpDir]));

  if (process.getuid?.() !== 0) log('warning: not root: needrestart, checkrestart and restartd see only this user\'s processes');
  const leftovers = readdirSync('/srv').filter((d) => d.startsWith('restartd-bench-'));
  if (leftovers.length) log(`note: /srv holds ${leftovers.length} restartd-bench-* dirs from an earlier run (another bench running, or one killed with -9): ${leftovers.join(', ')}`);

  const machine = await machineInfo(tmpDir);
  const floorBin = config.tools.includes('floor') ? await buildFloor(tmpDir, log) : null;
  const results = { version: 1, startedAt, config, machine, idle: null, scan: [], diff: null, targets: [] };
  let errors = 0;

  // The host as it is, before any workload: the start-up and small-scan case.
  if (config.idle && config.scan && !isShuttingDown()) {
    log('idle host: restartd status --json, checkrestart, node -e 0');
    try {
      results.idle = await benchIdle({ repo: REPO, tools: config.tools, runs: Math.max(config.runs, 9), timeoutMs: config.timeoutMs, tmpDir, log });
    } catch (error) {
      errors++;
      log(isShuttingDown() ? '  interrupted' : `  error: ${error.stack ?? error.message}`);
      results.idle = { error: error.message };
    }
  }

  if (config.scan) {
    let testkit = null;
    try {
      testkit = await loadTestkit(REPO);
    } catch (error) {
      errors++;
      log(`process scan: ${error.message}`);
      results.scan.push({ mode: config.modes.join(','), n: config.sizes.join(','), error: error.message });
    }
    if (testkit) {
      for (const mode of config.modes) {
        for (const n of config.sizes) {
          if (isShuttingDown()) break;
          log(`process scan: mode ${mode}, N = ${n}`);
          try {
            const c = await benchScanCase({
              testkit,
              repo: REPO,
              mode,
              n,
              topology: config.topology,
              cleanRatio: config.cleanRatio,
              tools: config.tools,
              runs: config.runs,
              timeoutMs: config.timeoutMs,
              tmpDir,
              floorBin,
              log,
            });
            results.scan.push(c);
            const rd = c.tools.restartd;
            log(`  restartd ${rd?.wallMedianMs ?? '–'} ms; ${Object.entries(c.ratios).map(([k, v]) => `${k} ${v ?? '–'}×`).join(', ')}`);
          } catch (error) {
            errors++;
            log(isShuttingDown() ? '  interrupted' : `  error: ${error.stack ?? error.message}`);
            results.scan.push({ mode, n, error: error.message });
          }
        }
      }
    }
  }

  if (config.diff && !isShuttingDown()) {
    log(`diff: ${config.diffFiles} files`);
    try {
      results.diff = await benchDiff({ repo: REPO, files: config.diffFiles, runs: config.diffRuns, timeoutMs: config.timeoutMs, tmpDir, log, baseDir: config.diffDir });
    } catch (error) {
      errors++;
      log(isShuttingDown() ? '  interrupted' : `  error: ${error.stack ?? error.message}`);
      results.diff = { error: error.message };
    }
  }

  if (isShuttingDown()) {
    log('bench: interrupted: no report written');
    return signalExit() ?? 130;
  }
  results.targets = evaluateTargets(results.scan, results.idle, machine);
  results.durationMs = Date.now() - began;
  const markdown = renderMarkdown(results);
  mkdirSync(outDir, { recursive: true });
  const stamp = startedAt.replace(/[:.]/g, '-');
  const jsonFile = join(outDir, `results-${stamp}.json`);
  writeFileSync(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(outDir, 'latest.md'), markdown);
  process.stdout.write(`${markdown}\n`);
  log(`bench: ${(results.durationMs / 1000).toFixed(0)} s; wrote ${relative(process.cwd(), jsonFile)} and ${relative(process.cwd(), join(outDir, 'latest.md'))}`);
  return errors ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (error) {
  log(`bench: ${error.stack ?? error.message}`);
} finally {
  await runAllCleanups(log);
}
process.exitCode = signalExit() ?? code;
