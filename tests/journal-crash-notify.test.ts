import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pauseEnv, TEST_PAUSED_FILE } from './support/test-pause.js';
import { CLI, runCli } from './support/cli.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { pollUntil, startTimeOf } from './support/systemd/proc-identity.js';
import { Releases } from './support/systemd/releases.js';
import { cgroup2Root } from './support/systemd/tree.js';
import { hostPidsOfUnit, systemctl, writeUnit } from './support/systemd/units.js';

// kill -9 of `restartd apply` around the notify phase (the last one): an update-aware unit is told
// once per switch, whether the run that told it was killed or not; a restarted unit starts once.
let sandbox: SystemdSandbox;
let releases: Releases;
let awareDir: string;
const count = (name: string): number => {
  const file = join(releases.root, `${name}.count`);
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
};

/** n's process (host PID), running the release's shell. */
async function programPid(): Promise<number> {
  let pid = 0;
  await pollUntil(() => {
    pid = hostPidsOfUnit(sandbox, cgroup2Root(), 'n.service').find((p) => {
      try {
        return readlinkSync(`/proc/${p}/exe`).startsWith(join(releases.root, 'releases'));
      } catch {
        return false;
      }
    }) ?? 0;
    return pid !== 0;
  }, 5000);
  return pid;
}

/** Puts n onto the current release (not counted) and registers it for SIGHUP; then switches. */
async function nextSwitch(): Promise<{ args: string[]; stateDir: string }> {
  await systemctl(sandbox, 'restart', 'n.service');
  const pid = await programPid();
  writeFileSync(join(awareDir, 'n.json'), JSON.stringify({ version: 1, name: 'n-app', pid, startTime: startTimeOf(pid), notify: { kind: 'signal', signal: 'SIGHUP' }, fallback: 'none' }), { mode: 0o644 });
  const version = releases.build({ a: 'changed', n: 'changed' });
  releases.switchTo(version);
  const stateDir = mkdtempSync(join(releases.root, 'state-'));
  return { stateDir, args: ['apply', '--old', releases.dir(version - 1), '--new', releases.dir(version), '--bus', sandbox.busAddress, '--state-dir', stateDir, '--aware-dir', awareDir] };
}

async function killedAfter(pauseAfter: string, args: string[], stateDir: string): Promise<void> {
  const child = spawn(process.execPath, [CLI, ...args], { env: pauseEnv(pauseAfter), stdio: 'ignore' });
  const exit = new Promise((resolve) => child.on('exit', resolve));
  expect(await pollUntil(() => existsSync(join(stateDir, TEST_PAUSED_FILE)), 30_000)).toBe(true);
  child.kill('SIGKILL');
  await exit;
  rmSync(join(stateDir, TEST_PAUSED_FILE));
}

beforeAll(async () => {
  sandbox = await startSystemd({ label: 'jnotify' });
  releases = new Releases({ a: { from: '/bin/sleep' }, n: { from: '/bin/sh' } });
  awareDir = join(releases.root, 'aware.d');
  mkdirSync(awareDir);
  chmodSync(awareDir, 0o755);
  const hup = join(releases.root, 'n.count');
  writeUnit(sandbox, 'a.service', { Service: ['Type=exec', `ExecStartPre=/bin/sh -c 'echo x >> ${join(releases.root, 'a.count')}'`, `ExecStart=${releases.bin('a')} infinity`] });
  writeUnit(sandbox, 'n.service', { Service: ['Type=exec', `ExecStart=${releases.bin('n')} -c 'trap "echo x >> ${hup}" HUP; while :; do sleep 1 & wait $! || true; done'`] });
  await systemctl(sandbox, 'daemon-reload');
  await systemctl(sandbox, 'start', 'a.service', 'n.service');
});

afterAll(async () => {
  await sandbox?.stop();
  releases?.remove();
});

describe('apply killed around the notify phase, then run again', () => {
  it.each([
    // pause point, what the re-run finds already done
    ['restart', ['restart a.service']],
    ['notify', ['restart a.service', 'notify n.service']],
  ] as const)('killed after %s: the re-run tells n (SIGHUP) and restarts a exactly once in all', async (pauseAfter, alreadyDone) => {
    const before = { a: count('a'), n: count('n') };
    const { args, stateDir } = await nextSwitch();
    await killedAfter(pauseAfter, args, stateDir);
    const rerun = await runCli(args);
    expect(rerun.stderr).toBe('');
    expect(rerun.code, rerun.stdout).toBe(0);
    const done = rerun.stdout.split('\n').filter((l) => l.startsWith('already done: ')).map((l) => l.slice('already done: '.length));
    expect(done.sort()).toEqual([...alreadyDone].sort());
    expect(await pollUntil(() => count('n') === before.n + 1, 3000)).toBe(true);
    expect(count('a')).toBe(before.a + 1);
    // Once more: nothing left to do, nobody told or started again.
    const third = await runCli(args);
    expect([0, 4]).toContain(third.code);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect({ a: count('a'), n: count('n') }).toEqual({ a: before.a + 1, n: before.n + 1 });
  });
});
