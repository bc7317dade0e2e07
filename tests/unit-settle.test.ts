import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastRuns } from '../src/journal/last-runs.js';
import type { Outcome } from '../src/types/outcome.js';
import { runCli } from './support/cli.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { Releases } from './support/systemd/releases.js';
import { pollUntil } from './support/systemd/proc-identity.js';
import { cgroup2Root } from './support/systemd/tree.js';
import { hostPidsOfUnit, systemctl, unitProperty, writeUnit } from './support/systemd/units.js';

// A release whose new program exits right after exec: systemd's job is "done" (Type=exec), the unit
// is dead a moment later. apply must call that a failure, not a restart.
let sandbox: SystemdSandbox;
let releases: Releases;

beforeAll(async () => {
  sandbox = await startSystemd({ label: 'settle' });
  // v1 runs `sleep infinity`; v2 of dies and loops is ls, which cannot find "infinity" and fails.
  releases = new Releases({ fine: { from: '/bin/sleep' }, dies: { from: '/bin/sleep', next: '/bin/ls' }, loops: { from: '/bin/sleep', next: '/bin/ls' } });
  writeUnit(sandbox, 'fine.service', { Service: ['Type=exec', `ExecStart=${releases.bin('fine')} infinity`] });
  // The shell outlives the program a moment, so the job is surely done (exec'd) before the unit dies.
  const dying = (name: string): string => `ExecStart=/bin/sh -c '${releases.bin(name)} infinity; sleep 0.3; exit 1'`;
  writeUnit(sandbox, 'dies.service', { Service: ['Type=exec', dying('dies')] });
  writeUnit(sandbox, 'loops.service', { Unit: ['StartLimitIntervalSec=0'], Service: ['Type=exec', 'Restart=always', 'RestartSec=100ms', dying('loops')] });
  await systemctl(sandbox, 'daemon-reload');
  await systemctl(sandbox, 'start', 'fine.service', 'dies.service', 'loops.service');
  // The shells fork their programs a moment after systemd's job is done.
  const forked = (name: string): boolean => hostPidsOfUnit(sandbox, cgroup2Root(), `${name}.service`).length === 2;
  expect(await pollUntil(() => forked('dies') && forked('loops'), 30_000)).toBe(true);
  releases.build({ fine: 'changed', dies: 'changed', loops: 'changed' });
  releases.switchTo(2);
});

afterAll(async () => {
  await sandbox?.stop();
  releases?.remove();
});

describe('a unit that dies after its restart', () => {
  it('is UNIT_FAILED with its Result, exit status and first journal lines; apply exits 5; the healthy unit is restarted and verified', async () => {
    const args = ['apply', '--old', releases.dir(1), '--new', releases.dir(2), '--bus', sandbox.busAddress, '--state-dir', join(releases.root, 'state')];
    const run = await runCli(args);
    expect(run.stderr).toBe('');
    expect(run.code, run.stdout).toBe(5);
    expect(run.stdout).toMatch(/^restarted fine\.service/m);
    expect(run.stdout).toMatch(/^FAILED dies\.service: dies\.service is failed \(failed\) within 2000 ms of its job: failed; Result=exit-code, main process exited with status 1/m);
    // What the new program said before it died, from the sandbox's journal.
    expect(run.stdout).toMatch(/^ {4}\| .*cannot access 'infinity'/m);
    expect(run.stdout).toMatch(/^FAILED loops\.service: loops\.service is .*(Restart= loop|auto-restart)/m);
    expect(await unitProperty(sandbox, 'dies.service', 'ActiveState')).toBe('failed');

    // The switch's journal says so too: failed, not done, with the unit's own words.
    const stateDir = join(releases.root, 'state');
    expect(lastRuns(stateDir, 1)[0]?.failed.map((f) => `${f.unit} ${f.code}`).sort()).toEqual(['dies.service UNIT_FAILED', 'loops.service UNIT_FAILED']);
    const [key] = readdirSync(join(stateDir, 'switches'));
    const outcomes = readFileSync(join(stateDir, 'switches', key ?? '', 'journal.jsonl'), 'utf8').split('\n').filter(Boolean)
      .map((line) => JSON.parse(line) as { type: string; outcome?: Outcome }).flatMap((line) => (line.outcome === undefined ? [] : [line.outcome]));
    const dies = outcomes.find((o) => o.unit === 'dies.service');
    expect(dies).toMatchObject({ ok: false, code: 'UNIT_FAILED', jobResult: 'done' });
    expect(dies?.cause).toMatch(/ExecMainStatus=1/);
    expect(dies?.journal).toEqual(expect.arrayContaining([expect.stringMatching(/cannot access 'infinity'/)]));
    // Never verified: a dead unit has no processes to judge.
    expect(outcomes.filter((o) => o.unit === 'dies.service').every((o) => o.stillStale === undefined)).toBe(true);
  });
});
