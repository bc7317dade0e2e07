// The tools compared by the process-scan benchmark: how to run each, and how to read the PIDs it flags.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './exec.mjs';

/** The environment the tools run in: no NEEDRESTART_SUSPEND (needrestart would exit at once), C locale, no TTY. */
export function toolEnv() {
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C', DEBIAN_FRONTEND: 'noninteractive' };
  delete env.NEEDRESTART_SUSPEND;
  delete env.NEEDRESTART_MODE;
  return env;
}

/** restartd's JSON report → `{ pids, scanMs }`. Throws when stdout is not the report. */
export function parseRestartdReport(stdout) {
  const report = JSON.parse(stdout);
  if (!report || !Array.isArray(report.stale)) throw new Error('restartd --json: no "stale" array in the output');
  return { pids: report.stale.map((p) => p.pid), scanMs: report.scanned?.durationMs ?? null, scanned: report.scanned?.processes ?? null };
}

/**
 * needrestart -v writes one line per process it decides to restart, on stderr:
 *   [main] #4242 uses obsolete binary /srv/app/bin/appd
 *   [main] #4242 uses deleted /srv/app/lib/libfoo.so.1
 *   [main] #4242 uses non-existing /srv/…          [main] #4242 uses obsolete /srv/…
 *   [main] #4242 uses obsolete script file(s):     (interpreter check)
 * Not to be confused with the interpreter modules' debug lines "#4242: uses no source file".
 */
export function parseNeedrestartVerbose(stderr) {
  const pids = new Set();
  for (const line of stderr.split('\n')) {
    const m = /^\[[^\]]+\] #(\d+) uses /.exec(line);
    if (m) pids.add(Number(m[1]));
  }
  return [...pids];
}

/**
 * checkrestart -v prints, per process found:
 *   [DEBUG] Process /srv/app/bin/appd (PID: 4242)
 * and with -m (machine output): "file\t4242\t/srv/app/bin/appd\t/srv/app/lib/libfoo.so.1".
 * Both are accepted; the package summary lines ("\t4242\t/path") are not needed (every process is in the -v list).
 */
export function parseCheckrestartVerbose(stdout) {
  const pids = new Set();
  for (const line of stdout.split('\n')) {
    const m = /\(PID: (\d+)\)/.exec(line) ?? /^file\t(\d+)\t/.exec(line);
    if (m) pids.add(Number(m[1]));
  }
  return [...pids];
}

/** The file the `restartd` command runs: package.json's "bin" (the bundled CLI), relative to the repo. */
export function restartdBin(repo) {
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
  const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.restartd;
  if (typeof bin !== 'string') throw new Error('package.json has no "bin" for restartd');
  return bin;
}

/** The restartd command for a workload: status for in-place switches, plan with the workload's generations otherwise. */
export function restartdArgs(repo, workload) {
  const cli = join(repo, restartdBin(repo));
  if (workload.mode === 'inplace') return [cli, 'status', '--json'];
  const g = workload.generations;
  return [
    cli,
    'plan',
    '--old',
    g.old,
    '--new',
    g.new,
    ...(g.source ? ['--source', g.source] : []),
    ...(g.storeDir ? ['--store-dir', g.storeDir] : []),
    '--json',
  ];
}

/**
 * Every tool: `timed(ctx)` → the command to time; `okCodes`; `flagged(ctx, firstRun)` → PIDs it flags
 * (from the first timed run's output when the timed command already says, else from a separate verbose run).
 * `ctx = { repo, workload, floorBin }`.
 */
export const TOOLS = {
  restartd: {
    label: 'restartd',
    missing: (ctx) => (existsSync(join(ctx.repo, restartdBin(ctx.repo))) ? null : `${restartdBin(ctx.repo)} not built (npm run build)`),
    timed: (ctx) => ({ cmd: process.execPath, args: restartdArgs(ctx.repo, ctx.workload) }),
    okCodes: [0, 1],
    describe: (ctx) => `node ${restartdBin(ctx.repo)} ${restartdArgs(ctx.repo, ctx.workload).slice(1).join(' ')}`,
    async flagged(_ctx, firstRun) {
      const { pids, scanMs } = parseRestartdReport(firstRun.stdout);
      return { pids, extra: { scanMs } };
    },
  },
  needrestart: {
    label: 'needrestart',
    missing: () => (existsSync('/usr/sbin/needrestart') ? null : '/usr/sbin/needrestart not installed (Debian package needrestart)'),
    // -b batch (no UI, no questions), -r l: list only, never restart anything.
    timed: () => ({ cmd: '/usr/sbin/needrestart', args: ['-b', '-r', 'l'] }),
    okCodes: [0, 1, 2, 3],
    describe: () => 'needrestart -b -r l',
    async flagged() {
      const { stderr } = await run('/usr/sbin/needrestart', ['-v', '-b', '-r', 'l'], { env: toolEnv(), okCodes: [0, 1, 2, 3] });
      return { pids: parseNeedrestartVerbose(stderr) };
    },
  },
  checkrestart: {
    label: 'checkrestart',
    missing: () =>
      !existsSync('/usr/sbin/checkrestart')
        ? '/usr/sbin/checkrestart not installed (Debian package debian-goodies)'
        : !existsSync('/usr/bin/lsof')
          ? '/usr/bin/lsof not installed (checkrestart would fall back to pmap)'
          : null,
    timed: () => ({ cmd: '/usr/sbin/checkrestart', args: [] }),
    okCodes: [0, 1],
    describe: () => 'checkrestart',
    async flagged() {
      const { stdout } = await run('/usr/sbin/checkrestart', ['-v'], { env: toolEnv(), okCodes: [0, 1] });
      const pids = parseCheckrestartVerbose(stdout);
      // Cross-check with its own summary line, "Found N processes using old versions of upgraded files".
      const found = /^Found (\d+) processes/m.exec(stdout);
      const extra = { reportedCount: found ? Number(found[1]) : null };
      if (found && Number(found[1]) !== pids.length) extra.parseWarning = `checkrestart says ${found[1]} processes, ${pids.length} PIDs parsed`;
      return { pids, extra };
    },
  },
  floor: {
    label: 'floor (C)',
    missing: (ctx) => (ctx.floorBin ? null : 'bench/floor.c could not be compiled (gcc)'),
    timed: (ctx) => ({ cmd: ctx.floorBin, args: [] }),
    okCodes: [0],
    describe: () => 'bench/floor.c: read every /proc/PID/maps, readlink exe and fd/*',
    flagged: null, // no analysis, no recall
  },
};
