import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from './support/cli.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { pollUntil } from './support/systemd/proc-identity.js';
import { Releases } from './support/systemd/releases.js';
import { systemctl, unitProperty, writeUnit } from './support/systemd/units.js';

// The sandbox's dbus-daemon goes away while a slow restart job is in flight: apply must neither
// hang nor forget the job.
let sandbox: SystemdSandbox;
let releases: Releases;
const countFile = (): string => join(releases.root, 'counts', 'slow');
const starts = (): number => (existsSync(countFile()) ? readFileSync(countFile(), 'utf8').split('\n').filter(Boolean).length : 0);

beforeAll(async () => {
  sandbox = await startSystemd({ label: 'buslost' });
  releases = new Releases({ slow: { from: '/bin/sleep' } });
  mkdirSync(join(releases.root, 'counts'));
  writeUnit(sandbox, 'slow.service', { Service: ['Type=exec', `ExecStartPre=/bin/sh -c 'echo x >> ${countFile()}; sleep 3'`, `ExecStart=${releases.bin('slow')} infinity`] });
  await systemctl(sandbox, 'daemon-reload');
  await systemctl(sandbox, 'start', 'slow.service');
});

afterAll(async () => {
  await sandbox?.stop();
  releases?.remove();
});

/** Switches to a new release and starts apply; resolves once its restart job is submitted. */
async function applyUntilSubmitted(): Promise<{ exit: Promise<number | null>; output: () => string; args: string[] }> {
  const version = releases.build({ slow: 'changed' });
  releases.switchTo(version);
  const stateDir = mkdtempSync(join(releases.root, 'state-'));
  const args = ['apply', '--old', releases.dir(version - 1), '--new', releases.dir(version), '--bus', sandbox.busAddress, '--state-dir', stateDir];
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const submitted = (): boolean => {
    const switches = join(stateDir, 'switches');
    if (!existsSync(switches)) return false;
    return readdirSync(switches).some((key) => {
      const file = join(switches, key, 'journal.jsonl');
      return existsSync(file) && readFileSync(file, 'utf8').includes('"type":"submitted"');
    });
  };
  expect(await pollUntil(submitted, 60_000), out).toBe(true);
  return { exit, output: () => out, args };
}

describe('the bus lost mid-apply', () => {
  it('dbus-daemon restarted during a slow job: the job is re-checked on a fresh connection and waited for; restarted once, exit 0', async () => {
    const before = starts();
    const run = await applyUntilSubmitted();
    await systemctl(sandbox, 'restart', 'dbus.service');
    expect(await run.exit, run.output()).toBe(0);
    expect(run.output()).toMatch(/^restarted slow\.service/m);
    expect(starts()).toBe(before + 1);
    expect(await unitProperty(sandbox, 'slow.service', 'ActiveState')).toBe('active');
  }, 180_000);

  it('dbus gone for good during a slow job: BUS_LOST (exit 5), no hang; a re-run with the bus back restarts nothing twice', async () => {
    const before = starts();
    const run = await applyUntilSubmitted();
    await systemctl(sandbox, 'stop', 'dbus.socket', 'dbus.service');
    try {
      expect(await run.exit, run.output()).toBe(5);
      expect(run.output()).toMatch(/^FAILED slow\.service: the bus was lost during the restart job of slow\.service .*whether it ran is not known.*run again to finish the switch/m);
    } finally {
      await systemctl(sandbox, 'start', 'dbus.socket', 'dbus.service');
    }
    // The job ran in systemd meanwhile: the re-run finds the unit new and restarts nothing.
    const rerun = await runCli(run.args);
    expect(rerun.code, rerun.stdout).toBe(4);
    expect(starts()).toBe(before + 1);
  }, 180_000);
});
