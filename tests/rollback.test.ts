import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRestartd } from '../src/index.js';
import { lastRuns } from '../src/journal/last-runs.js';
import { lastRunsSection } from '../src/report/status-sections.js';
import { pauseEnv, TEST_PAUSED_FILE } from './support/test-pause.js';
import { EXIT } from '../src/types/exit-codes.js';
import { CLI, runCli } from './support/cli.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { pollUntil } from './support/systemd/proc-identity.js';
import { Releases } from './support/systemd/releases.js';
import { cgroup2Root } from './support/systemd/tree.js';
import { hostPidsOfUnit, systemctl, writeUnit } from './support/systemd/units.js';

// A release whose new version breaks one unit (its pre-start check fails on the new release),
// on a real systemd: with --rollback, `current` goes back to the old release and both units, the
// broken one and the healthy one, run the old release's files again; each start is counted.
let sandbox: SystemdSandbox;
let releases: Releases;
let config: string;
// broken: its pre-start check fails on a bad release (JOB_FAILED); crasher: on a crashing release
// its program exits 1 right after exec (UNIT_FAILED, found by the settle check).
const NAMES = ['healthy', 'broken', 'crasher'] as const;
const ALL = ['broken.service', 'crasher.service', 'healthy.service'];
const UNITS = NAMES.map((n) => `${n}.service`);
const countFile = (name: string): string => join(releases.root, 'counts', name);
const counts = (): Record<string, number> =>
  Object.fromEntries(NAMES.map((n) => [n, existsSync(countFile(n)) ? readFileSync(countFile(n), 'utf8').split('\n').filter(Boolean).length : 0]));

/** Every process of the unit runs the release's own program. */
function runs(name: string, version: number): boolean {
  const pids = hostPidsOfUnit(sandbox, cgroup2Root(), `${name}.service`);
  return pids.length > 0 && pids.every((pid) => readlinkSync(`/proc/${pid}/exe`) === releases.bin(name, version));
}

/** Gives a release's program bytes of its own (a hardlink of the previous one is replaced). */
function setProgram(name: string, version: number, program: string): void {
  const path = releases.bin(name, version);
  rmSync(path);
  copyFileSync(program, path);
}

/**
 * A good release, every unit restarted onto it, then a bad one (its check fails) switched to:
 * the apply arguments for that switch.
 */
async function brokenSwitch(how: 'check' | 'crash' = 'check'): Promise<{ good: number; bad: number; stateDir: string; args: string[] }> {
  const good = releases.build({ healthy: 'changed', broken: 'changed', crasher: 'changed' });
  setProgram('check', good, '/bin/true');
  releases.switchTo(good);
  await systemctl(sandbox, 'reset-failed');
  await systemctl(sandbox, 'restart', ...UNITS);
  expect(await pollUntil(() => NAMES.every((n) => runs(n, good)), 10_000)).toBe(true);
  const bad = releases.build({ healthy: 'changed', broken: 'changed', crasher: 'changed' });
  setProgram('check', bad, how === 'check' ? '/bin/false' : '/bin/true');
  if (how === 'crash') {
    // Past its exec (the job is done), then it exits 1: as a program missing its config file would.
    rmSync(releases.bin('crasher', bad));
    writeFileSync(releases.bin('crasher', bad), '#!/bin/sh\nsleep 0.3\nexit 1\n', { mode: 0o755 });
  }
  releases.switchTo(bad);
  const stateDir = mkdtempSync(join(releases.root, 'state-'));
  const args = ['apply', '--old', releases.dir(good), '--new', releases.dir(bad), '--bus', sandbox.busAddress, '--config', config, '--state-dir', stateDir];
  return { good, bad, stateDir, args };
}

function startApply(args: string[], pauseAfter: string): { child: ChildProcess; exit: Promise<number | null>; output: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], { env: pauseEnv(pauseAfter), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exit, output: () => out };
}

const linkAt = (): string => realpathSync(releases.current);
const plus = (before: Record<string, number>, n: number): Record<string, number> => Object.fromEntries(NAMES.map((name) => [name, (before[name] ?? 0) + n]));

beforeAll(async () => {
  sandbox = await startSystemd({ label: 'rollback' });
  releases = new Releases({ healthy: { from: '/bin/sleep' }, broken: { from: '/bin/sleep' }, crasher: { from: '/bin/sleep' }, check: { from: '/bin/true', next: '/bin/false' } });
  mkdirSync(join(releases.root, 'counts'));
  config = join(releases.root, 'config.json');
  writeFileSync(config, '{ "version": 1 }\n');
  for (const name of NAMES) {
    writeUnit(sandbox, `${name}.service`, {
      Service: [
        'Type=exec',
        `ExecStartPre=/bin/sh -c 'echo x >> ${countFile(name)}'`,
        ...(name === 'broken' ? [`ExecStartPre=${releases.bin('check')}`] : []),
        `ExecStart=${releases.bin(name)} infinity`,
      ],
    });
  }
  await systemctl(sandbox, 'daemon-reload');
  await systemctl(sandbox, 'start', ...UNITS);
});

afterAll(async () => {
  await sandbox?.stop();
  releases?.remove();
});

// Generous: the machine is shared; nothing here is about speed.
describe('a broken release, rolled back', { timeout: 240_000 }, () => {
  it('without --rollback: the failure is reported (exit 5) and nothing is flipped', async () => {
    const { bad, args } = await brokenSwitch();
    const run = await runCli([...args, '--link', releases.current]);
    expect(run.code, run.stdout + run.stderr).toBe(EXIT.FAILED);
    expect(run.stdout).not.toMatch(/rolling back|rolled back/);
    expect(linkAt()).toBe(releases.dir(bad));
    expect(runs('healthy', bad)).toBe(true);
  });

  it('--rollback without --link is refused before anything runs', async () => {
    const { bad, args } = await brokenSwitch();
    const before = counts();
    const run = await runCli([...args, '--rollback']);
    expect(run.code).toBe(EXIT.ERROR);
    expect(run.stderr).toMatch(/--rollback: no link to flip back \(--link LINK/);
    expect(counts()).toEqual(before);
    expect(linkAt()).toBe(releases.dir(bad));
  });

  it('apply --rollback: current goes back to OLD, both units restart onto it and run its files (exit 8), the JSON and the last runs say so', async () => {
    const { good, bad, args, stateDir } = await brokenSwitch();
    const before = counts();
    const run = await runCli([...args, '--link', releases.current, '--rollback', '--json']);
    expect(run.code, run.stdout + run.stderr).toBe(EXIT.ROLLED_BACK);
    expect(linkAt()).toBe(releases.dir(good));
    // Relative as it was: the link is flipped like Nix switches a profile.
    expect(readlinkSync(releases.current)).toBe(`releases/v${good}`);
    for (const name of NAMES) expect(runs(name, good), `${name}.service runs v${good}`).toBe(true);
    // Each unit: once onto the bad release (the broken one's check failed), once back.
    expect(counts()).toEqual(plus(before, 2));
    const json = JSON.parse(run.stdout) as { exitCode: number; rolledBack: Record<string, unknown> & { outcomes: { unit: string; ok: boolean }[] } };
    expect(json.exitCode).toBe(EXIT.ROLLED_BACK);
    expect(json.rolledBack).toMatchObject({ link: releases.current, from: releases.dir(bad), to: releases.dir(good), units: ALL, ok: true });
    expect(json.rolledBack['reason']).toMatch(/^broken\.service JOB_FAILED: /);
    expect(json.rolledBack.outcomes.map((o) => [o.unit, o.ok])).toEqual(ALL.map((u) => [u, true]));
    const runsNow = lastRuns(stateDir, 5);
    const forward = runsNow.find((r) => r.old === releases.dir(good));
    expect(forward).toMatchObject({ state: 'finished', rolledBack: { state: 'finished', ok: true, flipped: true, to: releases.dir(good), units: ALL } });
    expect(lastRunsSection(runsNow).lines).toContain(`  rolled back to ${releases.dir(good)} (${ALL.join(', ')}): ${String(json.rolledBack['reason'])}`);
    // The restarts onto OLD are a run of their own, NEW -> OLD.
    expect(runsNow.find((r) => r.old === releases.dir(bad))?.done.map((d) => d.unit).sort()).toEqual(ALL);

    // The same switch again: the finished rollback is reported (exit 8), nothing restarted twice, the link untouched.
    const linkBefore = readlinkSync(releases.current);
    for (const extra of [['--json'], []]) {
      const again = await runCli([...args, '--link', releases.current, '--rollback', ...extra]);
      expect(again.code, again.stdout + again.stderr).toBe(EXIT.ROLLED_BACK);
      if (extra.length > 0) {
        const report = JSON.parse(again.stdout) as { exitCode: number; rolledBack: Record<string, unknown> };
        expect(report.exitCode).toBe(EXIT.ROLLED_BACK);
        expect(report.rolledBack).toMatchObject({ to: releases.dir(good), from: releases.dir(bad), units: ALL, ok: true, earlier: expect.any(String) });
      } else {
        expect(again.stdout).toMatch(/^rolled back to .*, 3 units restarted onto it and verified \(by an earlier run of this switch, finished .*; nothing done again/m);
        expect(again.stdout).not.toMatch(/STILL_STALE|rolling back/);
      }
    }
    expect(counts()).toEqual(plus(before, 2));
    expect(readlinkSync(releases.current)).toBe(linkBefore);
    expect(lastRuns(stateDir, 5).find((r) => r.old === releases.dir(good))).toMatchObject({ attempts: 1 });
  });

  it('--dry-run and plan say that rollback is armed and what it would do (link, from, to, units; the command), in text and JSON', async () => {
    const { good, bad, args } = await brokenSwitch();
    const before = counts();
    const gens = ['--old', releases.dir(good), '--new', releases.dir(bad)];
    const armed = { link: releases.current, from: releases.dir(bad), to: releases.dir(good), units: ALL };
    const dry = await runCli([...args, '--link', releases.current, '--rollback', '--dry-run', '--json']);
    expect(dry.code, dry.stdout + dry.stderr).toBe(EXIT.OK);
    expect((JSON.parse(dry.stdout) as { rollback: unknown }).rollback).toEqual(armed);
    const dryText = await runCli([...args, '--link', releases.current, '--rollback', '--dry-run']);
    expect(dryText.stdout).toContain(`rollback armed: if a restart, reload or start onto ${releases.dir(bad)} fails, ${releases.current} would go back from ${releases.dir(bad)} to ${releases.dir(good)}, then ${ALL.join(', ')} would restart onto it (exit 8)`);
    const plan = await runCli(['plan', ...gens, '--bus', sandbox.busAddress, '--config', config, '--link', releases.current, '--rollback', '--json']);
    expect((JSON.parse(plan.stdout) as { rollback: unknown }).rollback).toEqual(armed);
    const planText = await runCli(['plan', ...gens, '--bus', sandbox.busAddress, '--config', config, '--link', releases.current, '--rollback']);
    expect(planText.stdout).toContain(`rollback armed: if a restart, reload or start onto ${releases.dir(bad)} fails, ${releases.current} would go back`);
    // Not armed: no word of it.
    const plain = await runCli([...args, '--dry-run', '--json']);
    expect((JSON.parse(plain.stdout) as { rollback?: unknown }).rollback).toBeUndefined();
    // The config's rollback.command: the command, with what it would be told.
    const commandConfig = join(releases.root, 'dry-command-config.json');
    writeFileSync(commandConfig, JSON.stringify({ version: 1, rollback: { on: 'failure', command: ['/usr/local/bin/switch-back', 'now'] } }));
    const viaCommand = await runCli([...args, '--config', commandConfig, '--dry-run']);
    expect(viaCommand.stdout).toContain(`rollback armed: if a restart, reload or start onto ${releases.dir(bad)} fails, \`/usr/local/bin/switch-back now\` would run (RESTARTD_OLD=${releases.dir(good)}, RESTARTD_NEW=${releases.dir(bad)})`);
    expect(counts()).toEqual(before);
    expect(linkAt()).toBe(releases.dir(bad));
  });

  it("the library's apply({ link, rollback: true }) rolls back the same way", async () => {
    const { good, bad } = await brokenSwitch();
    const result = await createRestartd({ busAddress: sandbox.busAddress, config }).apply({ old: releases.dir(good), new: releases.dir(bad), link: releases.current, rollback: true });
    if (result.kind !== 'done') throw new Error(`apply resolved to ${result.kind}`);
    expect(result.exitCode).toBe(EXIT.ROLLED_BACK);
    expect(result.rolledBack).toMatchObject({ ok: true, to: releases.dir(good), units: ALL });
    expect(result.report.outcomes.find((o) => o.unit === 'broken.service')).toMatchObject({ ok: false, code: 'JOB_FAILED' });
    expect(linkAt()).toBe(releases.dir(good));
    for (const name of NAMES) expect(runs(name, good)).toBe(true);
  });

  it('a unit that dies right after its restart onto NEW (UNIT_FAILED) rolls the release back too', async () => {
    const { good, bad, args } = await brokenSwitch('crash');
    // A settle time the crash surely falls in, however loaded the machine.
    const settling = join(releases.root, 'settle-config.json');
    writeFileSync(settling, '{ "version": 1, "settleSeconds": 10 }\n');
    const run = await runCli([...args, '--config', settling, '--link', releases.current, '--rollback', '--json']);
    expect(run.code, run.stdout + run.stderr).toBe(EXIT.ROLLED_BACK);
    const json = JSON.parse(run.stdout) as { outcomes: { unit: string; code?: string }[]; rolledBack: { reason: string; from: string; ok: boolean } };
    expect(json.outcomes.find((o) => o.unit === 'crasher.service')?.code).toBe('UNIT_FAILED');
    expect(json.rolledBack).toMatchObject({ from: releases.dir(bad), ok: true });
    expect(json.rolledBack.reason).toMatch(/^crasher\.service UNIT_FAILED: /);
    expect(linkAt()).toBe(releases.dir(good));
    for (const name of NAMES) expect(runs(name, good), `${name}.service runs v${good}`).toBe(true);
  });

  it('hook: RESTARTD_LINK with --rollback rolls the pending switch back the same way (exit 8)', async () => {
    const { good, bad, stateDir } = await brokenSwitch();
    const env = { ...process.env, RESTARTD_OLD: releases.dir(good), RESTARTD_NEW: releases.dir(bad), RESTARTD_LINK: releases.current };
    const run = await runCli(['hook', '--foreground', '--rollback', '--bus', sandbox.busAddress, '--config', config, '--state-dir', stateDir], { env });
    expect(run.code, run.stdout + run.stderr).toBe(EXIT.ROLLED_BACK);
    expect(run.stdout).toMatch(/^rolled back to .*: .* points at it again, 3 units restarted onto it and verified$/m);
    expect(linkAt()).toBe(releases.dir(good));
    for (const name of NAMES) expect(runs(name, good), `${name}.service runs v${good}`).toBe(true);
  });

  it('rollback.command runs instead of the flip (no shell, RESTARTD_OLD and RESTARTD_NEW set), then the units restart onto OLD; a failing one is ROLLBACK_FAILED (exit 5) and nothing further is tried', async () => {
    const script = join(releases.root, 'switch-back');
    const envFile = join(releases.root, 'command-env');
    // As a system's own tool would: it records what it was told and switches `current` itself.
    writeFileSync(script, `#!/bin/sh\nenv | grep '^RESTARTD_' | sort > ${envFile}\n[ -e ${releases.root}/fail-command ] && { echo "cannot switch" >&2; exit 1; }\nln -sfn "$RESTARTD_OLD" ${releases.current}.cmd && mv -T ${releases.current}.cmd ${releases.current}\n`, { mode: 0o755 });
    const commandConfig = join(releases.root, 'command-config.json');
    writeFileSync(commandConfig, JSON.stringify({ version: 1, rollback: { on: 'failure', command: [script] } }));

    const { good, bad, args } = await brokenSwitch();
    const run = await runCli([...args, '--config', commandConfig, '--json']);
    expect(run.code, run.stdout + run.stderr).toBe(EXIT.ROLLED_BACK);
    expect(readFileSync(envFile, 'utf8')).toBe(`RESTARTD_NEW=${releases.dir(bad)}\nRESTARTD_OLD=${releases.dir(good)}\n`);
    const json = JSON.parse(run.stdout) as { rolledBack: Record<string, unknown> };
    expect(json.rolledBack).toMatchObject({ command: [script], from: releases.dir(bad), to: releases.dir(good), units: ALL, ok: true });
    expect(json.rolledBack['link']).toBeUndefined();
    expect(linkAt()).toBe(releases.dir(good));
    for (const name of NAMES) expect(runs(name, good), `${name}.service runs v${good}`).toBe(true);

    writeFileSync(join(releases.root, 'fail-command'), '');
    const second = await brokenSwitch();
    const before = counts();
    const failed = await runCli([...second.args, '--config', commandConfig, '--json']);
    expect(failed.code, failed.stdout + failed.stderr).toBe(EXIT.FAILED);
    const rolledBack = (JSON.parse(failed.stdout) as { rolledBack: { ok: boolean; code: string; cause: string } }).rolledBack;
    expect(rolledBack).toMatchObject({ ok: false, code: 'ROLLBACK_FAILED' });
    expect(rolledBack.cause).toMatch(/^the switch failed \(broken\.service JOB_FAILED: .*\); rolling back failed too \(rollback\.command .* failed \(1\): cannot switch\)$/);
    expect(linkAt()).toBe(releases.dir(second.bad));
    // Started once, onto NEW, by the switch; the failed rollback restarted nothing.
    expect(counts()).toEqual(plus(before, 1));
  });

  it.each(['rollback-begun', 'rollback-flipped', 'rollback-restart'] as const)('killed at %s: the re-run finishes the rollback, never the switch forward, each unit restarted onto OLD once', async (pauseAfter) => {
    const { good, bad, args, stateDir } = await brokenSwitch();
    const before = counts();
    const rollbackArgs = [...args, '--link', releases.current, '--rollback'];
    const paused = startApply(rollbackArgs, pauseAfter);
    expect(await pollUntil(() => existsSync(join(stateDir, TEST_PAUSED_FILE)), 60_000), `never paused: ${paused.output()}`).toBe(true);
    paused.child.kill('SIGKILL');
    await paused.exit;
    rmSync(join(stateDir, TEST_PAUSED_FILE));
    expect(linkAt()).toBe(releases.dir(pauseAfter === 'rollback-begun' ? bad : good));
    expect(lastRuns(stateDir, 5).find((r) => r.old === releases.dir(good))).toMatchObject({ state: 'unfinished', rolledBack: { state: 'unfinished', flipped: pauseAfter !== 'rollback-begun' } });

    const rerun = await runCli(rollbackArgs);
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(EXIT.ROLLED_BACK);
    // Nothing of the switch forward again: the re-run begins with the rollback.
    expect(rerun.stdout.split('\n')[0]).toMatch(/^rolling back: broken\.service JOB_FAILED: /);
    expect(linkAt()).toBe(releases.dir(good));
    for (const name of NAMES) expect(runs(name, good), `${name}.service runs v${good}`).toBe(true);
    expect(counts()).toEqual(plus(before, 2));
    if (pauseAfter === 'rollback-restart') expect(rerun.stdout).toMatch(/^already done: restart healthy\.service$/m);
    expect(lastRuns(stateDir, 5).find((r) => r.old === releases.dir(good))).toMatchObject({ state: 'finished', attempts: 2, rolledBack: { state: 'finished', ok: true } });
  });
});
