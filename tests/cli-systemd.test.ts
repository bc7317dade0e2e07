import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlannedAction } from '../src/types/plan.js';
import type { StaleReport } from '../src/report/stale-json.js';
import { runCli } from './support/cli.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { Releases } from './support/systemd/releases.js';
import { mainPidOf, systemctl, writeUnit } from './support/systemd/units.js';

// The built CLI end to end: plan (actions from the bus), apply --dry-run, apply, apply again.
let sandbox: SystemdSandbox;
let releases: Releases;
let before: { app: number; steady: number };

let stateDir: string;

const gens = (): string[] => ['--old', releases.dir(1), '--new', releases.dir(2), '--bus', sandbox.busAddress, '--state-dir', stateDir];

beforeAll(async () => {
  sandbox = await startSystemd({ label: 'cli' });
  releases = new Releases({ app: { from: '/bin/sleep' }, steady: { from: '/bin/sleep' } });
  stateDir = join(releases.root, 'state');
  for (const name of ['app', 'steady']) {
    writeUnit(sandbox, `${name}.service`, { Service: ['Type=exec', `ExecStart=${releases.bin(name)} infinity`] });
  }
  await systemctl(sandbox, 'daemon-reload');
  await systemctl(sandbox, 'start', 'app.service', 'steady.service');
  releases.build({ app: 'changed' });
  releases.switchTo(2);
  before = { app: await mainPidOf(sandbox, 'app.service'), steady: await mainPidOf(sandbox, 'steady.service') };
});

afterAll(async () => {
  await sandbox?.stop();
  releases?.remove();
});

describe('restartd plan and apply through the CLI', () => {
  it('plan --json lists the stale unit and its action, decided with facts from the bus', async () => {
    const run = await runCli(['plan', ...gens(), '--json']);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as StaleReport & { actions: PlannedAction[] };
    const mine = report.actions.filter((a) => a.unit === 'app.service' || a.unit === 'steady.service');
    expect(mine).toEqual([expect.objectContaining({ action: 'restart', phase: 'restart', unit: 'app.service', owner: expect.objectContaining({ kind: 'system-unit', name: 'app.service' }) })]);
  });

  it('apply --dry-run prints what it would do and restarts nothing', async () => {
    const run = await runCli(['apply', ...gens(), '--dry-run']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('would restart app.service (1 process)');
    expect(await mainPidOf(sandbox, 'app.service')).toBe(before.app);
  });

  it('apply restarts the stale unit only; a second apply has nothing to do', async () => {
    const first = await runCli(['apply', ...gens()]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(await mainPidOf(sandbox, 'app.service')).not.toBe(before.app);
    expect(await mainPidOf(sandbox, 'steady.service')).toBe(before.steady);
    const second = await runCli(['apply', ...gens()]);
    expect(second.code).toBe(4);
  });

  it('status shows that run among the last runs, from the journal in --state-dir', async () => {
    const run = await runCli(['status', '--json', '--state-dir', stateDir, '--bus', sandbox.busAddress]);
    const report = JSON.parse(run.stdout) as { lastRuns: Array<{ old: string; new: string; state: string; done: Array<{ unit: string; action: string }> }> };
    expect(report.lastRuns).toEqual([
      expect.objectContaining({ old: releases.dir(1), new: releases.dir(2), state: 'finished', done: [expect.objectContaining({ unit: 'app.service', action: 'restart' })] }),
    ]);
    const text = await runCli(['status', '--state-dir', stateDir, '--bus', sandbox.busAddress]);
    // apply, then apply again with nothing left to do: two runs of one switch.
    expect(text.stdout).toContain(`finished (2 runs of this switch): ${releases.dir(1)} -> ${releases.dir(2)}\n    done: app.service (restart)`);
  });

  it('a malformed config is rejected with the file, the field and what was expected, before anything runs', async () => {
    const config = join(releases.root, 'bad-config.json');
    writeFileSync(config, JSON.stringify({ version: 1, units: [{ match: 'app', action: 'bounce' }] }));
    const run = await runCli(['apply', ...gens(), '--config', config]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`config ${config}: units[0].action: expected one of restart, reload, stop-start, notify, skip, got "bounce"`);
  });
});
