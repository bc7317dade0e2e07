import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastRuns } from '../src/journal/last-runs.js';
import { pauseEnv, TEST_PAUSED_FILE } from './support/test-pause.js';
import { CLI, runCli } from './support/cli.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { pollUntil } from './support/systemd/proc-identity.js';
import { Releases } from './support/systemd/releases.js';
import { cgroup2Root } from './support/systemd/tree.js';
import { hostPidsOfUnit, systemctl, writeUnit } from './support/systemd/units.js';

// kill -9 of `restartd apply` (the built CLI) at each phase boundary, then the same command again:
// every stale unit is (re)started exactly once overall, counted by its ExecStartPre.
let sandbox: SystemdSandbox;
let releases: Releases;
let config: string;
// a, b: restarted; s: stop-start (phases stop and start); r: reloaded (phase reload; its ExecReload counts).
const NAMES = ['a', 'b', 's', 'r'] as const;
const counts = (): Record<string, number> =>
  Object.fromEntries(NAMES.map((n) => [n, existsSync(countFile(n)) ? readFileSync(countFile(n), 'utf8').split('\n').filter(Boolean).length : 0]));
const countFile = (name: string): string => join(releases.root, 'counts', name);

/** A new release where every program changed, switched to; returns the apply arguments for it. */
async function nextSwitch(): Promise<{ args: string[]; version: number; stateDir: string }> {
  // A reload keeps r's program: restart it onto the current release first (not counted), so the
  // switch finds it stale.
  await systemctl(sandbox, 'restart', 'r.service');
  const version = releases.build({ a: 'changed', b: 'changed', s: 'changed', r: 'changed' });
  releases.switchTo(version);
  // s's unit file changes too: the plan has a daemon-reload phase (after s stops, before it starts).
  writeCrashUnit('s', version);
  const stateDir = mkdtempSync(join(releases.root, 'state-'));
  return { version, stateDir, args: ['apply', '--old', releases.dir(version - 1), '--new', releases.dir(version), '--bus', sandbox.busAddress, '--config', config, '--state-dir', stateDir] };
}

/** The test's units; `version` only changes a comment, which is enough for systemd to want a daemon-reload. */
function writeCrashUnit(name: (typeof NAMES)[number], version: number): void {
  writeUnit(sandbox, `${name}.service`, {
    Unit: [`# release v${version}`],
    Service: [
      'Type=exec',
      // r counts its reloads (it is started once, before the count starts: see beforeAll).
      // b's start is slow, so a run killed right after submitting it leaves the job queued.
      `${name === 'r' ? 'ExecReload' : 'ExecStartPre'}=/bin/sh -c 'echo x >> ${countFile(name)}${name === 'b' ? '; sleep 2' : ''}'`,
      `ExecStart=${releases.bin(name)} infinity`,
      ...(name === 's' ? ['X-Restartd-Action=stop-start'] : []),
      ...(name === 'r' ? ['X-Restartd-Action=reload'] : []),
    ],
  });
}

function startApply(args: string[], pauseAfter?: string): { child: ChildProcess; exit: Promise<number | null>; output: () => string } {
  const env = pauseAfter === undefined ? process.env : pauseEnv(pauseAfter);
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exit, output: () => out };
}

async function killWhenPaused(stateDir: string, run: ReturnType<typeof startApply>): Promise<void> {
  const paused = join(stateDir, TEST_PAUSED_FILE);
  expect(await pollUntil(() => existsSync(paused), 30_000), `never paused: ${run.output()}`).toBe(true);
  run.child.kill('SIGKILL');
  await run.exit;
  rmSync(paused);
}

function runsNew(name: string, version: number): boolean {
  // A reload keeps the process: r runs its first release forever.
  if (name === 'r') return true;
  const pids = hostPidsOfUnit(sandbox, cgroup2Root(), `${name}.service`);
  return pids.length > 0 && pids.every((pid) => readlinkSync(`/proc/${pid}/exe`) === releases.bin(name, version));
}

beforeAll(async () => {
  sandbox = await startSystemd({ label: 'jcrash' });
  releases = new Releases({ a: { from: '/bin/sleep' }, b: { from: '/bin/sleep' }, s: { from: '/bin/sleep' }, r: { from: '/bin/sleep' } });
  mkdirSync(join(releases.root, 'counts'));
  config = join(releases.root, 'config.json');
  writeFileSync(config, '{ "version": 1 }\n');
  for (const name of NAMES) writeCrashUnit(name, 1);
  await systemctl(sandbox, 'daemon-reload');
  await systemctl(sandbox, 'start', ...NAMES.map((n) => `${n}.service`));
});

afterAll(async () => {
  await sandbox?.stop();
  releases?.remove();
});

describe('apply killed with SIGKILL, then run again', () => {
  it.each([
    // pause point, what the re-run finds already done, its exit code: everything the re-run reports
    // done is verified, whichever run did it, and a reload keeps the old program (r: STILL_STALE, 5)
    ['plan', [], 5],
    ['stop', ['stop-start s.service'], 5],
    ['daemon-reload', ['stop-start s.service'], 5],
    ['reload', ['stop-start s.service', 'reload r.service'], 5],
    ['restart', ['stop-start s.service', 'reload r.service', 'restart a.service', 'restart b.service'], 5],
    ['start', ['stop-start s.service', 'reload r.service', 'restart a.service', 'restart b.service', 'stop-start s.service'], 5],
  ] as const)('killed after %s: the re-run finishes the job, each unit started (or reloaded) once', async (pauseAfter, alreadyDone, code) => {
    const before = counts();
    const { args, version, stateDir } = await nextSwitch();
    await killWhenPaused(stateDir, startApply(args, pauseAfter));
    expect(lastRuns(stateDir, 5)).toEqual([expect.objectContaining({ state: 'unfinished', attempts: 1 })]);

    const rerun = await runCli(args);
    expect(rerun.stderr).toBe('');
    expect(rerun.code, rerun.stdout).toBe(code);
    const done = rerun.stdout.split('\n').filter((l) => l.startsWith('already done: ')).map((l) => l.slice('already done: '.length));
    expect(done.sort()).toEqual([...alreadyDone].sort());
    const after = counts();
    for (const name of NAMES) expect(after[name], `${name}.service starts`).toBe((before[name] ?? 0) + 1);
    for (const name of NAMES) expect(runsNew(name, version), `${name}.service runs v${version}`).toBe(true);

    const [run] = lastRuns(stateDir, 5);
    expect(run).toMatchObject({ state: 'finished', attempts: 2 });
    expect(run?.failed).toEqual(code === 5 ? [expect.objectContaining({ unit: 'r.service', action: 'reload', code: 'STILL_STALE' })] : []);
    // A reload that verify found still stale counts as failed, not done.
    const reloaded = code === 5 ? [] : ['reload r.service'];
    expect(run?.done.map((d) => `${d.action} ${d.unit}`).sort()).toEqual([...reloaded, 'restart a.service', 'restart b.service', 'stop-start s.service', 'stop-start s.service']);

    // Once more: r is still stale (a reload keeps the old program). Its reload was done for this
    // switch and is not repeated (no restart storms), but the run says r is still stale (exit 5);
    // nothing is started or reloaded again.
    const third = await runCli(args);
    expect(third.code).toBe(5);
    expect(third.stdout).toMatch(/^FAILED r\.service: .*not repeated: fix the cause, then run again with --retry/m);
    expect(third.stdout).not.toMatch(/^reloaded r\.service/m);
    expect(counts()).toEqual(after);
    // --retry runs it again, and only it (verify finds it still stale: a reload keeps the old program).
    const retried = await runCli([...args, '--retry']);
    expect(retried.stdout).toMatch(/^reloaded r\.service/m);
    expect(retried.stdout).toMatch(/^STILL STALE r\.service/m);
    expect(counts()).toEqual({ ...after, r: (after['r'] ?? 0) + 1 });
  });
});

describe('two apply runs at once', () => {
  it('the second exits BUSY (6) while the first holds the lock; the lock of a killed run is taken over', async () => {
    const before = counts();
    const { args, stateDir } = await nextSwitch();
    const first = startApply(args, 'plan');
    expect(await pollUntil(() => existsSync(join(stateDir, TEST_PAUSED_FILE)), 30_000)).toBe(true);
    const second = await runCli(args);
    expect(second.code).toBe(6);
    expect(second.stderr).toMatch(new RegExp(`^restartd: restartd apply \\(pid ${first.child.pid}, since .*\\) holds ${stateDir}/lock: nothing done`));
    expect(counts()).toEqual(before);

    // A third waits; the first dies holding the lock; the third takes the dead run's lock over.
    const third = startApply([...args, '--wait', '60']);
    first.child.kill('SIGKILL');
    await first.exit;
    // 5: r's reload kept its old program (STILL_STALE).
    expect(await third.exit, third.output()).toBe(5);
    const after = counts();
    for (const name of NAMES) expect(after[name]).toBe((before[name] ?? 0) + 1);
  });

  it('two started together with --wait: one does the job, the other finds it already done', async () => {
    const before = counts();
    const { args } = await nextSwitch();
    const runs = [startApply([...args, '--wait', '60']), startApply([...args, '--wait', '60'])];
    const codes = await Promise.all(runs.map((r) => r.exit));
    // Both 5: the run that did the job (r's reload kept its old program), and the other, where the
    // only action left is r's reload, done by the first and still stale: reported, not repeated.
    const outputs = runs.map((r) => r.output());
    expect(codes, outputs.join('\n---\n')).toEqual([5, 5]);
    expect(outputs.filter((o) => /^reloaded r\.service/m.test(o))).toHaveLength(1);
    expect(outputs.filter((o) => /^FAILED r\.service: an earlier run of this switch did it/m.test(o))).toHaveLength(1);
    const after = counts();
    for (const name of NAMES) expect(after[name]).toBe((before[name] ?? 0) + 1);
  });
});

// Jobs in the order the plan submits them: stop s, reload r, restart a, restart b, start s.
const JOBS = 5;
const STEPS = [...Array.from({ length: JOBS }, (_, i) => [`submit:${i + 1}`, `submitted:${i + 1}`]).flat(), 'verify'];

describe('apply killed with SIGKILL at every step, then run again', () => {
  it.each(STEPS)('killed at %s: the re-run restarts (or reloads) every unit exactly once, never submitting a job twice', async (step) => {
    const before = counts();
    const { args, version, stateDir } = await nextSwitch();
    await killWhenPaused(stateDir, startApply(args, step));
    if (step === 'submitted:3') {
      // Killed in the middle of a journal write: a torn last line.
      const [key] = readdirSync(join(stateDir, 'switches'));
      appendFileSync(join(stateDir, 'switches', key ?? '', 'journal.jsonl'), '{"type":"outcome","at":"2026-');
    }
    const rerun = await runCli(args);
    expect(rerun.stderr).toBe('');
    // r's reload keeps its old program: STILL_STALE (5), and nothing else fails.
    expect(rerun.code, rerun.stdout).toBe(5);
    const after = counts();
    for (const name of NAMES) expect(after[name], `${name}.service starts (${rerun.stdout})`).toBe((before[name] ?? 0) + 1);
    for (const name of NAMES) expect(runsNew(name, version), `${name}.service runs v${version}`).toBe(true);
    const [run] = lastRuns(stateDir, 5);
    expect(run).toMatchObject({ state: 'finished', attempts: 2 });
    expect(run?.failed.map((f) => `${f.unit} ${f.code}`)).toEqual(['r.service STILL_STALE']);
  }, 180_000);
});
