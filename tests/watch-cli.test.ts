import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastRuns } from '../src/journal/last-runs.js';
import { CLI } from './support/cli.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { pollUntil } from './support/systemd/proc-identity.js';
import { Releases } from './support/systemd/releases.js';
import { systemctl, writeUnit } from './support/systemd/units.js';

// `restartd watch --link ROOT/current` (the built CLI) on a real systemd, with real symlink flips.
let sandbox: SystemdSandbox;
let releases: Releases;
let config: string;
const countFile = (): string => join(releases.root, 'counts');
const starts = (): number => (existsSync(countFile()) ? readFileSync(countFile(), 'utf8').split('\n').filter(Boolean).length : 0);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  sandbox = await startSystemd({ label: 'watch' });
  releases = new Releases({ app: { from: '/bin/sleep' } });
  config = join(releases.root, 'config.json');
  writeFileSync(config, '{ "version": 1 }\n');
  writeUnit(sandbox, 'app.service', { Service: ['Type=exec', `ExecStartPre=/bin/sh -c 'echo x >> ${countFile()}'`, `ExecStart=${releases.bin('app')} infinity`] });
  await systemctl(sandbox, 'daemon-reload');
  await systemctl(sandbox, 'start', 'app.service');
  for (let i = 0; i < 5; i++) releases.build({ app: 'changed' });
});

afterAll(async () => {
  await sandbox?.stop();
  releases?.remove();
});

describe('restartd watch', () => {
  it('5 flips of `current` in 200 ms: one run, from the first generation to the final one; SIGTERM ends it with 0', async () => {
    const stateDir = mkdtempSync(join(releases.root, 'state-'));
    mkdirSync(stateDir, { recursive: true });
    const child = spawn(process.execPath, [CLI, 'watch', '--link', releases.current, '--debounce', '0.5', '--bus', sandbox.busAddress, '--config', config, '--state-dir', stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    expect(await pollUntil(() => out.includes('restartd watch: watching'), 10_000), out).toBe(true);

    const before = starts();
    for (const v of [2, 3, 4, 5, 6]) {
      releases.switchTo(v);
      await sleep(40);
    }
    expect(await pollUntil(() => lastRuns(stateDir, 5)[0]?.state === 'finished', 30_000), out).toBe(true);
    await sleep(1000);
    const runs = lastRuns(stateDir, 5);
    expect(runs).toEqual([expect.objectContaining({ old: releases.dir(1), new: releases.dir(6), state: 'finished', done: [expect.objectContaining({ unit: 'app.service', action: 'restart' })] })]);
    expect(starts()).toBe(before + 1);
    expect(out).toContain(`restartd watch: switch ${releases.dir(1)} -> ${releases.dir(6)}\n`);

    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });
});
