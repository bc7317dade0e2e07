import { copyFileSync, mkdtempSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRestartd } from '../src/index.js';
import { EtcdSemaphore } from '../src/fleet/etcd-semaphore.js';
import { EXIT } from '../src/types/exit-codes.js';
import { runCli, type CliRun } from './support/cli.js';
import { startEtcdCluster, type EtcdCluster } from './support/etcd-cluster.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { pollUntil } from './support/systemd/proc-identity.js';
import { Releases } from './support/systemd/releases.js';
import { mainPidOf, systemctl, writeUnit } from './support/systemd/units.js';

// One bad release on a fleet of three (separate `restartd apply --fleet --rollback` processes, each
// its own --fleet-host, link and unit, on one real systemd and a real 3-member etcd cluster, K=1):
// the host that gets the slot first restarts onto NEW, fails, rolls back and records it in etcd;
// the two others stop before they restart anything.
const HOSTS = 3;
let cluster: EtcdCluster;
let sandbox: SystemdSandbox;
let releases: Releases;
let work: string;
let good: number;
let bad: number;

const unitOf = (i: number): string => `app-h${i}.service`;
const linkOf = (i: number): string => join(releases.root, `current-h${i}`);
const configOf = (i: number): string => join(work, `config-h${i}.json`);
const stateOf = (i: number): string => join(work, `state-h${i}`);

function pointLink(i: number, version: number): void {
  symlinkSync(`releases/v${version}`, `${linkOf(i)}.next`);
  renameSync(`${linkOf(i)}.next`, linkOf(i));
}

function applyArgs(i: number, extra: string[] = []): string[] {
  return [
    'apply', '--old', releases.dir(good), '--new', releases.dir(bad), '--link', linkOf(i), '--rollback',
    '--bus', sandbox.busAddress, '--config', configOf(i), '--state-dir', stateOf(i), '--fleet', cluster.endpoints, '--fleet-host', `h${i}`, ...extra,
  ];
}

beforeAll(async () => {
  [cluster, sandbox] = await Promise.all([startEtcdCluster(), startSystemd({ label: 'fleet-rollback' })]);
  work = mkdtempSync('/srv/restartd-test-fleet-rollback-');
  // One release dir for the fleet (every host gets the same NEW), a link per host.
  releases = new Releases({ app: { from: '/bin/sleep' }, check: { from: '/bin/true' } });
  for (let i = 0; i < HOSTS; i++) {
    symlinkSync('releases/v1', linkOf(i));
    // Each host acts on its own unit only: the others are another host's.
    const others = [...Array(HOSTS).keys()].filter((j) => j !== i).map((j) => ({ match: unitOf(j), action: 'skip' }));
    writeFileSync(configOf(i), JSON.stringify({ version: 1, units: others, fleet: { slots: 1, leaseTtlSeconds: 2, groups: [{ match: 'app-*', group: 'app' }] } }));
    writeUnit(sandbox, unitOf(i), { Service: ['Type=exec', `ExecStartPre=${join(linkOf(i), 'bin', 'check')}`, `ExecStart=${join(linkOf(i), 'bin', 'app')} infinity`] });
  }
  await systemctl(sandbox, 'daemon-reload');
  await systemctl(sandbox, 'start', ...[...Array(HOSTS).keys()].map(unitOf));
  good = 1;
  // The bad release: its pre-start check fails, on every host.
  bad = releases.build({ app: 'changed', check: 'changed' });
  rmSync(releases.bin('check', bad));
  copyFileSync('/bin/false', releases.bin('check', bad));
  for (let i = 0; i < HOSTS; i++) pointLink(i, bad);
}, 120_000);

afterAll(async () => {
  await sandbox?.stop();
  await cluster?.stop();
  releases?.remove();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('the fleet hold: a release one host rolled back is not spread', { timeout: 300_000 }, () => {
  it('K=1: the first host rolls back and records it in etcd; the other two stop before they restart anything (exit 8, "held: host h0 rolled back NEW")', async () => {
    const before = await Promise.all([...Array(HOSTS).keys()].map((i) => mainPidOf(sandbox, unitOf(i))));
    const watcher = await EtcdSemaphore.connect({ endpoints: cluster.endpoints.split(',') }, 2);
    try {
      const first = runCli(applyArgs(0));
      // h0 holds the group's one slot before the others start: it is the first host of the rollout.
      expect(await pollUntil(async () => (await watcher.holders('app')).some((h) => h.host === 'h0'), 120_000, 200)).toBe(true);
      const [h0, h1, h2] = await Promise.all([first, runCli(applyArgs(1)), runCli(applyArgs(2, ['--json']))]);

      expect(h0.code, h0.stdout + h0.stderr).toBe(EXIT.ROLLED_BACK);
      expect(h0.stdout).toMatch(/^rolled back to .*: .* points at it again, 1 unit restarted onto it and verified$/m);
      expect(readlinkSync(linkOf(0))).toBe(`releases/v${good}`);
      expect(h0.stdout).toMatch(/took slot 0 of group app( after \S+ s)? \(kept until this run is verified: rollback is armed\)/);

      expect(h1.code, h1.stdout + h1.stderr).toBe(EXIT.ROLLED_BACK);
      expect(h1.stdout).toContain(`held: host h0 rolled back ${releases.dir(bad)}`);
      expect(h2.code, h2.stdout + h2.stderr).toBe(EXIT.ROLLED_BACK);
      const json = JSON.parse(h2.stdout) as { exitCode: number; held: Record<string, string>; outcomes: { unit: string; code?: string }[] };
      expect(json.exitCode).toBe(EXIT.ROLLED_BACK);
      expect(json.held).toMatchObject({ host: 'h0', group: 'app', new: releases.dir(bad), old: releases.dir(good) });
      expect(json.held['reason']).toMatch(/^app-h0\.service JOB_FAILED: /);
      expect(json.outcomes.find((o) => o.unit === unitOf(2))?.code).toBe('FLEET_HELD');
      // Nothing restarted on the held hosts, their links left as they are.
      expect(await mainPidOf(sandbox, unitOf(1))).toBe(before[1]);
      expect(await mainPidOf(sandbox, unitOf(2))).toBe(before[2]);
      expect(await mainPidOf(sandbox, unitOf(0))).not.toBe(before[0]);
      expect(readlinkSync(linkOf(1))).toBe(`releases/v${bad}`);

      // The record in etcd: NEW, OLD, reason, time, under the group, keyed by host.
      const client = new Etcd3({ hosts: cluster.endpoints.split(',') });
      try {
        const record = JSON.parse((await client.get('/restartd/fleet/app/rollbacks/h0').string()) ?? 'null') as Record<string, string>;
        expect(record).toMatchObject({ host: 'h0', new: releases.dir(bad), old: releases.dir(good) });
        expect(record['reason']).toMatch(/^app-h0\.service JOB_FAILED: /);
        expect(Number.isNaN(Date.parse(record['time'] ?? ''))).toBe(false);
      } finally {
        client.close();
      }
    } finally {
      await watcher.close();
    }
  });

  it("the library's apply({ fleet }) of the same NEW is held too: result.held, exit 8, nothing restarted", async () => {
    const before = await mainPidOf(sandbox, unitOf(1));
    const result = await createRestartd({ busAddress: sandbox.busAddress, config: configOf(1) }).apply({
      old: releases.dir(good),
      new: releases.dir(bad),
      link: linkOf(1),
      rollback: true,
      fleet: { endpoints: cluster.endpoints, host: 'h1' },
    });
    if (result.kind !== 'done') throw new Error(`apply resolved to ${result.kind}`);
    expect(result.exitCode).toBe(EXIT.ROLLED_BACK);
    expect(result.held).toMatchObject({ host: 'h0', new: releases.dir(bad) });
    expect(result.rolledBack).toBeUndefined();
    expect(await mainPidOf(sandbox, unitOf(1))).toBe(before);
  });
});

// Two units of one group on each host, stale in one phase: the host's actions of the group share
// its one slot of the group (rollback armed, that slot is kept until the run is verified, so a
// second slot for the host's other unit would never come free). Two hosts, K=1, as separate
// `restartd apply --fleet` processes; an etcd watch on the group's slot keys sees every slot taken.
describe('two units of one group on a host, K=1: they share the host\'s slot', { timeout: 300_000 }, () => {
  const WEB_HOSTS = 2;
  const web: Releases[] = [];
  const webUnit = (i: number, which: 'a' | 'b'): string => `web-h${i}-${which}.service`;
  const webConfig = (i: number): string => join(work, `web-config-h${i}.json`);
  const webLog = (i: number): string => join(web[i]?.root ?? '', 'events.log');
  const webState = (i: number): string => join(work, `web-state-h${i}`);

  beforeAll(async () => {
    for (let i = 0; i < WEB_HOSTS; i++) {
      const r = new Releases({ a: { from: '/bin/sleep' }, b: { from: '/bin/sleep' } });
      web.push(r);
      const log = join(r.root, 'events.log');
      for (const which of ['a', 'b'] as const) {
        writeUnit(sandbox, webUnit(i, which), {
          Service: [
            'Type=exec',
            `ExecStart=${r.bin(which)} infinity`,
            `ExecStop=/bin/sh -c 'echo "down ${which} $(date +%%s%%3N)" >> ${log}'`,
            `ExecStartPre=/bin/sh -c 'sleep 0.3; echo "up ${which} $(date +%%s%%3N)" >> ${log}'`,
          ],
        });
      }
    }
    await systemctl(sandbox, 'daemon-reload');
    await systemctl(sandbox, 'start', ...[...Array(WEB_HOSTS).keys()].flatMap((i) => [webUnit(i, 'a'), webUnit(i, 'b')]));
  }, 120_000);

  afterAll(() => {
    for (const r of web) r.remove();
  });

  /** Writes host i's config (its own units only; `extra` for its units first) and switches it to a release where a and b changed. */
  function nextWebSwitch(i: number, units: { match: string; action: string }[] = []): string[] {
    const other = (1 - i) as 0 | 1;
    const skips = (['a', 'b'] as const).map((which) => ({ match: webUnit(other, which), action: 'skip' }));
    // waitTimeoutSeconds: long enough for the other host's whole run, far shorter than the default hour.
    writeFileSync(webConfig(i), JSON.stringify({ version: 1, units: [...units, ...skips], fleet: { slots: 1, leaseTtlSeconds: 2, waitTimeoutSeconds: 90, groups: [{ match: 'web-*', group: 'web' }] } }));
    const r = web[i] as Releases;
    const to = r.build({ a: 'changed', b: 'changed' });
    r.switchTo(to);
    writeFileSync(webLog(i), '');
    return ['--old', r.dir(to - 1), '--new', r.dir(to), '--link', r.current];
  }

  /** Both hosts apply at once while a watch counts the group's slot keys (each put is a slot taken, each delete one let go). */
  async function webRollout(extra: string[], units: { match: string; action: string }[] = []): Promise<{ runs: CliRun[]; most: number; takers: string[] }> {
    const client = new Etcd3({ hosts: cluster.endpoints.split(',') });
    const watcher = await client.watch().prefix('/restartd/fleet/web/slots/').create();
    const live = new Set<string>();
    const takers: string[] = [];
    let most = 0;
    watcher.on('put', (kv) => {
      live.add(kv.key.toString());
      takers.push((JSON.parse(kv.value.toString()) as { host: string }).host);
      most = Math.max(most, live.size);
    });
    watcher.on('delete', (kv) => live.delete(kv.key.toString()));
    try {
      const before = await Promise.all([...Array(WEB_HOSTS).keys()].flatMap((i) => [mainPidOf(sandbox, webUnit(i, 'a')), mainPidOf(sandbox, webUnit(i, 'b'))]));
      const args = [...Array(WEB_HOSTS).keys()].map((i) => [
        'apply', ...nextWebSwitch(i, units), '--bus', sandbox.busAddress, '--config', webConfig(i), '--state-dir', webState(i), '--fleet', cluster.endpoints, '--fleet-host', `h${i}`, ...extra,
      ]);
      const runs = await Promise.all(args.map((a) => runCli(a)));
      runs.forEach((run) => expect(run.code, run.stdout + run.stderr).toBe(0));
      for (const run of runs) expect(run.stdout + run.stderr).not.toContain('FLEET_UNAVAILABLE');
      const after = await Promise.all([...Array(WEB_HOSTS).keys()].flatMap((i) => [mainPidOf(sandbox, webUnit(i, 'a')), mainPidOf(sandbox, webUnit(i, 'b'))]));
      after.forEach((pid, j) => expect(pid, `unit ${j} restarted`).not.toBe(before[j]));
      // Every slot let go by the end (the watch has seen the deletes once the runs are done).
      expect(await pollUntil(async () => live.size === 0, 10_000, 100)).toBe(true);
      return { runs, most, takers };
    } finally {
      await watcher.cancel();
      client.close();
    }
  }

  /** The span of host i's restarts, from its units' own logs: [first down, last up]. */
  function span(i: number): { down: number; up: number; units: string[] } {
    const lines = readFileSync(webLog(i), 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string, string]);
    const times = lines.map(([, , t]) => Number(t));
    return { down: Math.min(...times), up: Math.max(...times), units: lines.map(([kind, which]) => `${kind} ${which}`).sort() };
  }

  function expectHostsApart(): void {
    const [h0, h1] = [span(0), span(1)];
    for (const s of [h0, h1]) expect(s.units).toEqual(['down a', 'down b', 'up a', 'up b']);
    // K=1: one host's restarts are all done before the other's first one.
    expect(h0.up < h1.down || h1.up < h0.down, `h0 ${h0.down}-${h0.up}, h1 ${h1.down}-${h1.up}`).toBe(true);
  }

  it('rollback armed: both units of each host restart under its one kept slot; no more than K slots are ever taken fleet-wide', async () => {
    const { runs, most, takers } = await webRollout(['--rollback']);
    expect(most).toBe(1);
    // One slot per host for its two units, not one per unit.
    expect(takers.sort()).toEqual(['h0', 'h1']);
    for (const [i, run] of runs.entries()) {
      for (const which of ['a', 'b'] as const) {
        expect(run.stdout).toMatch(new RegExp(`fleet: web-h${i}-${which}\\.service took slot 0 of group web( after \\S+ s)? \\(kept until this run is verified: rollback is armed\\)`));
      }
    }
    expectHostsApart();
  });

  it('rollback not armed: a stop-start holding its slot from its stop to its start does not block the host\'s restart of the group', async () => {
    const { runs, most, takers } = await webRollout([], [{ match: 'web-h*-a.service', action: 'stop-start' }]);
    expect(most).toBe(1);
    expect(takers.sort()).toEqual(['h0', 'h1']);
    for (const [i, run] of runs.entries()) {
      expect(run.stdout).toContain(`fleet: web-h${i}-a.service took slot 0 of group web`);
      expect(run.stdout).toContain(`fleet: web-h${i}-b.service took slot 0 of group web`);
      expect(run.stdout).not.toContain('kept until');
    }
    expectHostsApart();
  });
});
