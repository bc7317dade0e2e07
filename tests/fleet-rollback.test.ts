import { copyFileSync, mkdtempSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRestartd } from '../src/index.js';
import { EtcdSemaphore } from '../src/fleet/etcd-semaphore.js';
import { EXIT } from '../src/types/exit-codes.js';
import { runCli } from './support/cli.js';
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
