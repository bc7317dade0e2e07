// Runs one tool as a separate process, under GNU time for its peak RSS, and measures its wall time.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const GNU_TIME = '/usr/bin/time';

/** The child currently running, so that a ctrl-c can stop it (bench/lib/cleanup.mjs). */
let current = null;
export function currentChild() {
  return current;
}

/**
 * Runs `cmd args` with stdin from /dev/null and stdout/stderr to files (no pipe for the
 * event loop to drain while the clock runs). Returns
 * `{ code, signal, wallMs, rssKb, cpuMs, stdout, stderr, timedOut }`.
 * `rssKb` is GNU time's %M: ru_maxrss of the largest process in the tool's tree (e.g. lsof under checkrestart).
 */
export async function timedRun(cmd, args, { env = process.env, tmpDir, timeoutMs = 300_000, keepOutput = true, cwd } = {}) {
  if (!existsSync(GNU_TIME)) throw new Error(`${GNU_TIME} not found: install the Debian package "time" (scripts/install-bench-deps)`);
  const tag = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const outFile = join(tmpDir, `out-${tag}`);
  const errFile = join(tmpDir, `err-${tag}`);
  const timeFile = join(tmpDir, `time-${tag}`);
  const outFd = openSync(outFile, 'w');
  const errFd = openSync(errFile, 'w');
  let timedOut = false;
  try {
    const start = process.hrtime.bigint();
    // detached: its own process group, so a timeout (or ctrl-c) can stop the tool and its children
    // (lsof under checkrestart) by that group's id, and ctrl-c's SIGINT does not hit it mid-measurement.
    const child = spawn(GNU_TIME, ['-f', '%M %U %S', '-o', timeFile, cmd, ...args], {
      stdio: ['ignore', outFd, errFd],
      env,
      cwd,
      detached: true,
    });
    current = child;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, timeoutMs);
    const { code, signal } = await new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (c, s) => resolve({ code: c, signal: s }));
    });
    const end = process.hrtime.bigint();
    clearTimeout(timer);
    current = null;
    const timeLines = existsSync(timeFile) ? readFileSync(timeFile, 'utf8').trim().split('\n') : [];
    // On a non-zero exit GNU time writes "Command exited with non-zero status N" first: the numbers are last.
    const [rss, user, sys] = (timeLines.at(-1) ?? '').trim().split(/\s+/).map(Number);
    return {
      code,
      signal,
      timedOut,
      wallMs: Number(end - start) / 1e6,
      rssKb: Number.isFinite(rss) ? rss : null,
      cpuMs: Number.isFinite(user) && Number.isFinite(sys) ? Math.round((user + sys) * 1000) : null,
      stdout: keepOutput ? readFileSync(outFile, 'utf8') : '',
      stderr: readFileSync(errFile, 'utf8'),
    };
  } finally {
    current = null;
    closeSync(outFd);
    closeSync(errFd);
    for (const f of [outFile, errFile, timeFile]) rmSync(f, { force: true });
  }
}

/** Kills a child the bench started, and its process group when it leads one (timedRun's children do). */
export function killGroup(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

/** Runs a command to completion without timing it; rejects on a non-zero exit unless `okCodes` has it. */
export function run(cmd, args, { okCodes = [0], env = process.env, cwd, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env, cwd, detached: true });
    current = child;
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    if (input !== undefined) child.stdin.end(input);
    child.once('error', (e) => {
      current = null;
      reject(e);
    });
    child.once('close', (code, signal) => {
      current = null;
      if (okCodes.includes(code)) resolve({ code, stdout, stderr });
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code ?? signal}: ${stderr.trim().slice(-300)}`));
    });
  });
}
