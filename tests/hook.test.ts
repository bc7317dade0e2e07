import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastRuns } from '../src/journal/last-runs.js';
import { pauseEnv, TEST_PAUSED_FILE } from './support/test-pause.js';
import { runCli } from './support/cli.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { pollUntil } from './support/systemd/proc-identity.js';
import { Releases } from './support/systemd/releases.js';
import { systemctl, writeUnit } from './support/systemd/units.js';

// `restartd hook` as a package manager calls it: the built CLI, generations in the environment.
let sandbox: SystemdSandbox;
let releases: Releases;
let config: string;
const NAMES = ['a', 'b'] as const;
const countFile = (name: string): string => join(releases.root, 'counts', name);
const counts = (): Record<string, number> =>
  Object.fromEntries(NAMES.map((n) => [n, existsSync(countFile(n)) ? readFileSync(countFile(n), 'utf8').split('\n').filter(Boolean).length : 0]));
const plusOne = (before: Record<string, number>): Record<string, number> => Object.fromEntries(NAMES.map((n) => [n, (before[n] ?? 0) + 1]));

/** A new release (both programs changed), switched to; the hook's flags and environment for it. */
function nextSwitch(): { flags: string[]; env: NodeJS.ProcessEnv; stateDir: string } {
  const version = releases.build({ a: 'changed', b: 'changed' });
  releases.switchTo(version);
  const stateDir = mkdtempSync(join(releases.root, 'state-'));
  return {
    stateDir,
    flags: ['hook', '--bus', sandbox.busAddress, '--config', config, '--state-dir', stateDir],
    env: { ...process.env, RESTARTD_OLD: releases.dir(version - 1), RESTARTD_NEW: releases.dir(version) },
  };
}

beforeAll(async () => {
  sandbox = await startSystemd({ label: 'hook' });
  releases = new Releases({ a: { from: '/bin/sleep' }, b: { from: '/bin/sleep' } });
  mkdirSync(join(releases.root, 'counts'));
  config = join(releases.root, 'config.json');
  writeFileSync(config, '{ "version": 1 }\n');
  for (const name of NAMES) {
    writeUnit(sandbox, `${name}.service`, { Service: ['Type=exec', `ExecStartPre=/bin/sh -c 'echo x >> ${countFile(name)}'`, `ExecStart=${releases.bin(name)} infinity`] });
  }
  await systemctl(sandbox, 'daemon-reload');
  await systemctl(sandbox, 'start', 'a.service', 'b.service');
});

afterAll(async () => {
  await sandbox?.stop();
  releases?.remove();
});

describe('restartd hook', () => {
  it('invoked 10 times in one transaction (one after another): one restart per stale unit', async () => {
    const before = counts();
    const { flags, env, stateDir } = nextSwitch();
    const runs = [];
    for (let i = 0; i < 10; i++) runs.push(await runCli(flags, { env }));
    expect(runs.map((r) => r.code)).toEqual(Array(10).fill(0));
    expect(runs[0]?.stdout).toMatch(/^restartd hook: \/\S+ -> \/\S+ \(1 invocation since .*\)\n(restarted [ab]\.service .*\n){2}2 restarted\n$/);
    for (const run of runs.slice(1)) expect(run.stdout).toMatch(/^restartd hook: \/\S+ -> \/\S+ was carried out at .*: nothing to do\n$/);
    expect(counts()).toEqual(plusOne(before));
    expect(lastRuns(stateDir, 10)).toEqual([expect.objectContaining({ state: 'finished', failed: [] })]);
  });

  it('invoked 10 times at once: one restart per stale unit, the rest queued or with nothing left to do', async () => {
    const before = counts();
    const { flags, env } = nextSwitch();
    const runs = await Promise.all(Array.from({ length: 10 }, () => runCli(flags, { env })));
    expect(runs.map((r) => r.code), runs.map((r) => r.stdout + r.stderr).join('\n---\n')).toEqual(Array(10).fill(0));
    // A queued invocation returns before the run holding the lock is done.
    expect(await pollUntil(() => counts().b === plusOne(before).b && counts().a === plusOne(before).a, 20_000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(counts()).toEqual(plusOne(before));
  });

  it('RESTARTD_SUSPEND=1 records the switch and restarts nothing; a later `restartd hook` carries it out', async () => {
    const before = counts();
    const { flags, env, stateDir } = nextSwitch();
    const suspended = await runCli(flags, { env: { ...env, RESTARTD_SUSPEND: '1' } });
    expect(suspended.code).toBe(0);
    expect(suspended.stdout).toMatch(/^restartd hook: suspended \(RESTARTD_SUSPEND\): .* recorded in /);
    expect(existsSync(join(stateDir, 'pending.json'))).toBe(true);
    expect(counts()).toEqual(before);

    const later = await runCli(flags, { env: { ...process.env } });
    expect(later.code).toBe(0);
    expect(counts()).toEqual(plusOne(before));
    expect(existsSync(join(stateDir, 'pending.json'))).toBe(false);
    expect((await runCli(flags, { env: { ...process.env } })).stdout).toBe('restartd hook: nothing pending\n');
  });

  it('--max-wait 0 returns at once; the work goes on detached and finishes', async () => {
    const before = counts();
    const { flags, env, stateDir } = nextSwitch();
    const run = await runCli([...flags, '--max-wait', '0'], { env });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^restartd hook: still working after 0 s: continuing in the background \\(pid \\d+\\), output in ${stateDir}/hook.log\\n$`));
    expect(await pollUntil(() => lastRuns(stateDir, 1)[0]?.state === 'finished', 20_000)).toBe(true);
    expect(counts()).toEqual(plusOne(before));
  });

  it.each(['plan', 'restart'])('a detached run killed with SIGKILL after %s is finished by the next `restartd hook`, nothing started twice', async (pauseAfter) => {
    const before = counts();
    const { flags, env, stateDir } = nextSwitch();
    const run = await runCli([...flags, '--max-wait', '0'], { env: pauseEnv(pauseAfter, env) });
    expect(run.code).toBe(0);
    const paused = join(stateDir, TEST_PAUSED_FILE);
    expect(await pollUntil(() => existsSync(paused), 30_000)).toBe(true);
    const pid = Number(readFileSync(paused, 'utf8').split(' ')[1]);
    process.kill(pid, 'SIGKILL');
    expect(await pollUntil(() => !existsSync(`/proc/${pid}`), 5000)).toBe(true);
    expect(lastRuns(stateDir, 1)[0]?.state).toBe('unfinished');

    const again = await runCli(flags, { env: { ...process.env } });
    expect(again.code).toBe(0);
    expect(counts()).toEqual(plusOne(before));
    expect(lastRuns(stateDir, 1)[0]).toMatchObject({ state: 'finished', attempts: 2 });
  });

  it('only one of old and new is bad input (3), and nothing is recorded', async () => {
    const { flags, stateDir } = nextSwitch();
    const run = await runCli(flags, { env: { ...process.env, RESTARTD_NEW: releases.dir(1) } });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('hook needs both the old and the new generation');
    expect(existsSync(join(stateDir, 'pending.json'))).toBe(false);
  });
});
