import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executePlan } from '../src/execute/execute-plan.js';
import type { ExecuteEvents, FleetGate, FleetHold, Outcome } from '../src/types/outcome.js';
import { EtcdSemaphore } from '../src/fleet/etcd-semaphore.js';
import { FLEET_RUN_FILE, readFleetStatus } from '../src/fleet/fleet-state.js';
import type { PlannedAction } from '../src/types/plan.js';
import { connectSystemd } from '../src/systemd/adapter.js';
import type { SystemdManager } from '../src/types/systemd.js';
import { runCli, type CliRun } from './support/cli.js';
import { startEtcdCluster, type EtcdCluster } from './support/etcd-cluster.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { Releases } from './support/systemd/releases.js';
import { mainPidOf, systemctl, writeUnit } from './support/systemd/units.js';

// The real CLI (dist/) end to end: simulated hosts are separate `restartd apply --fleet` processes,
// each with its own unit and its own release dir in one real systemd, each its own --fleet-host and
// --state-dir, against a real 3-member etcd cluster. Each unit logs when it goes down (ExecStop)
// and when it is up again (after ExecStartPre): those intervals are the restarts that overlap.
const HOSTS = 3;
const TTL = 2;
// Three CLI runs at once scan the whole machine: on a loaded 2-core box that takes a while.
const ROLLOUT_TIMEOUT_MS = 120_000;

let cluster: EtcdCluster;
let sandbox: SystemdSandbox;
let manager: SystemdManager;
let work: string;
let config: string;
const releases: Releases[] = [];
const version: number[] = [];

const unitOf = (i: number): string => `app-h${i}.service`;
const logOf = (i: number): string => join(releases[i]?.root ?? '', 'events.log');
const stateOf = (i: number): string => join(work, `state-h${i}`);

beforeAll(async () => {
  expect(existsSync('/usr/bin/etcd'), 'etcd-server is installed by scripts/install-test-deps').toBe(true);
  [cluster, sandbox] = await Promise.all([startEtcdCluster(), startSystemd({ label: 'fleet' })]);
  work = mkdtempSync('/srv/restartd-test-fleet-');
  config = join(work, 'config.json');
  writeFileSync(config, JSON.stringify({ version: 1, fleet: { slots: 1, leaseTtlSeconds: TTL, groups: [{ match: 'app-*', group: 'app' }] } }));
  for (let i = 0; i < HOSTS; i++) {
    const r = new Releases({ app: { from: '/bin/sleep' } });
    releases.push(r);
    version.push(1);
    const log = join(r.root, 'events.log');
    writeUnit(sandbox, unitOf(i), {
      Service: [
        'Type=exec',
        `ExecStart=${r.bin('app')} infinity`,
        `ExecStop=/bin/sh -c 'echo "down $(date +%%s%%3N)" >> ${log}'`,
        `ExecStartPre=/bin/sh -c 'sleep 0.5; echo "up $(date +%%s%%3N)" >> ${log}'`,
      ],
    });
  }
  writeUnit(sandbox, 'cycle.service', { Service: ['Type=exec', 'ExecStart=/bin/sleep infinity'] });
  await systemctl(sandbox, 'daemon-reload');
  await systemctl(sandbox, 'start', ...releases.map((_, i) => unitOf(i)), 'cycle.service');
  manager = await connectSystemd({ busAddress: sandbox.busAddress });
});

afterAll(async () => {
  manager?.close();
  await sandbox?.stop();
  await cluster?.stop();
  for (const r of releases) r.remove();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

/** Builds and switches host i to its next release; returns the --old/--new flags. */
function nextSwitch(i: number): string[] {
  const r = releases[i] as Releases;
  const from = version[i] as number;
  const to = r.build({ app: 'changed' });
  r.switchTo(to);
  version[i] = to;
  writeFileSync(logOf(i), '');
  return ['--old', r.dir(from), '--new', r.dir(to)];
}

function applyArgs(i: number, gens: string[], extra: string[] = []): string[] {
  return ['apply', ...gens, '--bus', sandbox.busAddress, '--config', config, '--state-dir', stateOf(i), '--fleet', cluster.endpoints, '--fleet-host', `h${i}`, ...extra];
}

/** [down, up] of each restart, from the units' own logs. */
function restarts(i: number): { host: number; down: number; up: number }[] {
  const lines = readFileSync(logOf(i), 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]);
  const out: { host: number; down: number; up: number }[] = [];
  let down: number | undefined;
  for (const [kind, t] of lines) {
    if (kind === 'down') down = Number(t);
    else if (kind === 'up' && down !== undefined) {
      out.push({ host: i, down, up: Number(t) });
      down = undefined;
    }
  }
  return out;
}

function maxOverlap(intervals: { down: number; up: number }[]): number {
  const edges = intervals.flatMap((r) => [{ t: r.down, d: 1 }, { t: r.up, d: -1 }]).sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let max = 0;
  for (const e of edges) max = Math.max(max, (now += e.d));
  return max;
}

async function rollout(extra: string[]): Promise<{ runs: CliRun[]; overlap: number }> {
  const before = await Promise.all(releases.map((_, i) => mainPidOf(sandbox, unitOf(i))));
  const runs = await Promise.all(releases.map((_, i) => runCli(applyArgs(i, nextSwitch(i), extra))));
  for (const run of runs) expect(run.stderr).toBe('');
  expect(runs.map((r) => r.code)).toEqual(releases.map(() => 0));
  const after = await Promise.all(releases.map((_, i) => mainPidOf(sandbox, unitOf(i))));
  after.forEach((pid, i) => expect(pid).not.toBe(before[i]));
  const intervals = releases.flatMap((_, i) => restarts(i));
  expect(intervals).toHaveLength(HOSTS);
  return { runs, overlap: maxOverlap(intervals) };
}

describe('restartd apply --fleet: hosts as separate CLI processes, a real systemd, a real etcd cluster', () => {
  it('K=1: three hosts apply the same switch; their restarts never overlap', async () => {
    const { runs, overlap } = await rollout([]);
    expect(overlap).toBe(1);
    expect(runs.some((r) => r.stdout.includes('waits for a slot of group app: held by h'))).toBe(true);
    for (const run of runs) expect(run.stdout).toMatch(/took slot 0 of group app/);
  }, ROLLOUT_TIMEOUT_MS);

  it('K=2 (--fleet-slots 2): at most two restart at once, and two do', async () => {
    const { runs, overlap } = await rollout(['--fleet-slots', '2']);
    expect(overlap).toBe(2);
    expect(runs.some((r) => r.stdout.includes('took slot 1 of group app'))).toBe(true);
  }, ROLLOUT_TIMEOUT_MS);

  it('a host waits while the slot is held elsewhere: status shows it waiting, and it goes on once the slot is free', async () => {
    const outsider = await EtcdSemaphore.connect({ endpoints: cluster.endpoints.split(',') }, TTL);
    const held = await outsider.acquire('app', { slots: 1, value: { host: 'outsider', pid: process.pid, unit: 'app-x.service', since: '2026-01-01T00:00:00Z' }, waitTimeoutMs: 5000 });
    const before = await mainPidOf(sandbox, unitOf(0));
    const running = runCli(applyArgs(0, nextSwitch(0)));
    try {
      const runFile = join(stateOf(0), FLEET_RUN_FILE);
      const deadline = Date.now() + 15_000;
      while (!(existsSync(runFile) && readFileSync(runFile, 'utf8').includes('"waiting":[{'))) {
        if (Date.now() > deadline) throw new Error(`apply never waited: ${existsSync(runFile) ? readFileSync(runFile, 'utf8') : 'no run file'}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const status = await runCli(['status', '--json', '--state-dir', stateOf(0)]);
      const fleet = (JSON.parse(status.stdout) as { fleet: { waiting: unknown[]; holding: unknown[] } }).fleet;
      expect(fleet.waiting).toEqual([expect.objectContaining({ group: 'app', unit: unitOf(0), holders: [expect.objectContaining({ host: 'outsider', slot: 0, unit: 'app-x.service' })] })]);
      expect(fleet.holding).toEqual([]);
      // Still waiting: nothing restarted while the slot is held elsewhere.
      expect(await mainPidOf(sandbox, unitOf(0))).toBe(before);
    } finally {
      await held.release();
      await outsider.close();
    }
    const run = await running;
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('waits for a slot of group app: held by outsider (app-x.service, since 2026-01-01T00:00:00Z)');
    expect(await mainPidOf(sandbox, unitOf(0))).not.toBe(before);
    expect(existsSync(join(stateOf(0), FLEET_RUN_FILE))).toBe(false);
  }, ROLLOUT_TIMEOUT_MS);

  it('no etcd reachable: exit 3, the error names every endpoint, nothing restarted; --fleet-optional: a warning and a single-host run', async () => {
    const before = await mainPidOf(sandbox, unitOf(1));
    const gens = nextSwitch(1);
    const dead = 'http://127.0.0.1:9,http://127.0.0.1:11';
    const args = applyArgs(1, gens).map((a) => (a === cluster.endpoints ? dead : a));
    const failed = await runCli(args);
    expect(failed.code).toBe(3);
    expect(failed.stderr).toContain('etcd unreachable at http://127.0.0.1:9, http://127.0.0.1:11');
    expect(failed.stdout).not.toContain('restarting');
    expect(await mainPidOf(sandbox, unitOf(1))).toBe(before);

    const optional = await runCli([...args, '--fleet-optional']);
    expect(optional.stderr).toContain('etcd unreachable at http://127.0.0.1:9, http://127.0.0.1:11');
    expect(optional.stderr).toContain('--fleet-optional: going on as a single host');
    expect(optional.code).toBe(0);
    expect(await mainPidOf(sandbox, unitOf(1))).not.toBe(before);
  }, ROLLOUT_TIMEOUT_MS);

  it('outside the maintenance window: exit 7, nothing restarted, status shows the deferred switch, hook keeps it pending', async () => {
    // A window on another weekday than today (UTC), so now is outside it.
    const days = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
    const other = days[(new Date().getUTCDay() + 3) % 7] as string;
    const closed = join(work, 'closed.json');
    writeFileSync(closed, JSON.stringify({ version: 1, fleet: { window: { days: [other], start: '02:00', end: '04:00', timeZone: 'UTC' } } }));
    const before = await mainPidOf(sandbox, unitOf(2));
    const gens = nextSwitch(2);
    const args = applyArgs(2, gens).map((a) => (a === config ? closed : a));
    const run = await runCli(args);
    expect(run.code).toBe(7);
    expect(run.stdout).toContain(`outside the maintenance window (${other} 02:00-04:00 UTC): nothing restarted; the window opens next at `);
    expect(await mainPidOf(sandbox, unitOf(2))).toBe(before);

    const status = await runCli(['status', '--json', '--state-dir', stateOf(2)]);
    const fleet = (JSON.parse(status.stdout) as { fleet: { deferred?: Record<string, unknown> } }).fleet;
    expect(fleet.deferred).toMatchObject({ old: gens[1], new: gens[3], command: 'apply', window: `${other} 02:00-04:00 UTC` });
    expect(new Date(String(fleet.deferred?.nextWindowStart)).getUTCDay()).toBe(days.indexOf(other));

    const hook = await runCli(['hook', '--state-dir', stateOf(2), '--config', closed, '--bus', sandbox.busAddress]);
    expect(hook.code).toBe(0);
    expect(hook.stdout).toContain('outside the maintenance window');
    expect(existsSync(join(stateOf(2), 'pending.json'))).toBe(true);
    expect(await mainPidOf(sandbox, unitOf(2))).toBe(before);

    // In the window (no window configured): the hook carries the pending switch out, and the deferral is over.
    const drained = await runCli(['hook', '--foreground', '--state-dir', stateOf(2), '--config', config, '--bus', sandbox.busAddress, '--fleet', cluster.endpoints, '--fleet-host', 'h2']);
    expect(drained.code).toBe(0);
    expect(drained.stdout).toContain('took slot 0 of group app');
    expect(await mainPidOf(sandbox, unitOf(2))).not.toBe(before);
    expect(readFleetStatus(stateOf(2)).deferred).toBeUndefined();
  }, ROLLOUT_TIMEOUT_MS);

  it('a fleet flag without --fleet is bad input: exit 3, the error names the flag, nothing restarted', async () => {
    const before = await mainPidOf(sandbox, unitOf(0));
    const gens = nextSwitch(0);
    // A state dir each: the runs go at once, and one dir's lock would make the others wait.
    const plain = (j: number): string[] => ['apply', ...gens, '--bus', sandbox.busAddress, '--config', config, '--state-dir', join(work, `bad-flag-${j}`)];
    const flags: [string, string][] = [
      ['--fleet-ca', config], ['--fleet-cert', config], ['--fleet-key', config], ['--fleet-user', 'u'], ['--fleet-password-file', config], ['--fleet-slots', '2'], ['--fleet-host', 'h0'],
    ];
    const runs = await Promise.all(flags.map(([flag, value], j) => runCli([...plain(j), flag, value])));
    runs.forEach((run, j) => {
      const flag = flags[j]?.[0] ?? '';
      expect(run.code, `${flag}: ${run.stdout}${run.stderr}`).toBe(3);
      expect(run.stderr).toContain(`${flag} needs --fleet URL[,URL…]`);
      expect(run.stdout).not.toContain('restarting');
    });
    expect(await mainPidOf(sandbox, unitOf(0))).toBe(before);
  }, ROLLOUT_TIMEOUT_MS);
});

describe('executePlan with a fleet gate (recording), on the real systemd', () => {
  function recordingGate(): { gate: FleetGate; log: string[] } {
    const log: string[] = [];
    const gate: FleetGate = {
      groupOf: (action) => `g:${action.unit ?? action.owner.name}`,
      async acquire(group, action): Promise<FleetHold> {
        log.push(`acquire ${group} ${action.phase}`);
        return { group, slot: 0, waitedMs: 0, release: async () => void log.push(`release ${group}`) };
      },
    };
    return { gate, log };
  }
  const act = (unit: string, action: PlannedAction['action'], phase: PlannedAction['phase']): PlannedAction => ({ owner: { kind: 'system-unit', name: unit }, action, reason: 'test', pids: [], phase, unit });

  it('a stop-start holds one slot from its stop until its start is done; notify and skips take none', async () => {
    const { gate, log } = recordingGate();
    const events = new EventEmitter<ExecuteEvents>();
    events.on('action:start', (a) => log.push(`start ${a.unit ?? a.owner.name} ${a.phase}`));
    events.on('action:done', (o) => log.push(`done ${o.unit} ${o.phase}`));
    const plan = { daemonReload: false, actions: [act('cycle.service', 'stop-start', 'stop'), act('cycle.service', 'stop-start', 'start'), act('gone.service', 'notify', 'notify'), act('other.service', 'skip', 'none')] };
    const report = await executePlan(plan, manager, { dryRun: false, concurrency: 2, jobTimeoutMs: 10_000, fleet: gate }, events);
    // The slot goes back once the start's job is done (before its outcome is reported).
    expect(log.slice(0, 6)).toEqual(['acquire g:cycle.service stop', 'start cycle.service stop', 'done cycle.service stop', 'start cycle.service start', 'release g:cycle.service', 'done cycle.service start']);
    expect(log.filter((l) => l.startsWith('acquire'))).toHaveLength(1);
    expect(report.outcomes.slice(0, 2).map((o) => o.ok)).toEqual([true, true]);
  });

  it('no slot to be had: the action is not run and fails FLEET_UNAVAILABLE; a dry run never asks', async () => {
    const refusing: FleetGate = { groupOf: () => 'g', acquire: async () => Promise.reject(new Error('etcd unreachable at http://x:1')) };
    const before = await mainPidOf(sandbox, 'cycle.service');
    const report = await executePlan({ daemonReload: false, actions: [act('cycle.service', 'restart', 'restart')] }, manager, { fleet: refusing, jobTimeoutMs: 10_000 });
    expect(report.outcomes).toMatchObject([{ ok: false, code: 'FLEET_UNAVAILABLE', jobResult: 'not-run', cause: 'no fleet slot for cycle.service (group g): etcd unreachable at http://x:1; nothing was run' }]);
    expect(await mainPidOf(sandbox, 'cycle.service')).toBe(before);
    const { gate, log } = recordingGate();
    const dry = await executePlan({ daemonReload: false, actions: [act('cycle.service', 'restart', 'restart')] }, manager, { fleet: gate, dryRun: true });
    expect(dry.outcomes).toMatchObject([{ ok: true, dryRun: true }]);
    expect(log).toEqual([]);
  });
  it("an update-aware unit's fallback restart takes a slot like any restart", async () => {
    const { gate, log } = recordingGate();
    const before = await mainPidOf(sandbox, 'cycle.service');
    const notify: PlannedAction = { ...act('cycle.service', 'notify', 'notify'), fallback: 'restart' };
    // The app asked to be restarted (what createNotifier reports for restart-me or no answer).
    const notifier = async (action: PlannedAction): Promise<Outcome> => ({
      unit: action.unit ?? '', owner: action.owner, action: 'notify', phase: 'notify', reason: action.reason, pids: [], ok: false, jobResult: 'not-run', durationMs: 0,
      code: 'RESTART_NEEDED', cause: 'cycle.service must be restarted: app (pid 1): restart-me',
    });
    const report = await executePlan({ daemonReload: false, actions: [notify] }, manager, { fleet: gate, notifier, jobTimeoutMs: 10_000 });
    expect(log).toEqual(['acquire g:cycle.service restart', 'release g:cycle.service']);
    expect(report.outcomes).toMatchObject([{ ok: true, action: 'notify', jobResult: 'done', detail: expect.stringContaining('update-aware fallback') }]);
    expect(await mainPidOf(sandbox, 'cycle.service')).not.toBe(before);
  });
});
