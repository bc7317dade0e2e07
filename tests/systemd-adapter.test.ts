import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RestartdError } from '../src/errors.js';
import { connectSystemd } from '../src/systemd/adapter.js';
import type { SystemdManager } from '../src/types/systemd.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { cgroup2Root } from './support/systemd/tree.js';
import { hostPidsOfUnit, mainPidOf, systemctl, unitProperty, writeUnit } from './support/systemd/units.js';

let sandbox: SystemdSandbox;
let manager: SystemdManager;
let scratch: string;
const JOB_MS = 10_000;

beforeAll(async () => {
  sandbox = await startSystemd({ label: 'adapter' });
  scratch = mkdtempSync('/srv/restartd-test-adapter-');
  const service = (extra: string[] = []) => ({ Service: ['Type=exec', 'ExecStart=/bin/sleep infinity', ...extra] });
  writeUnit(sandbox, 'plain.service', service());
  writeUnit(sandbox, 'refuser.service', { Unit: ['RefuseManualStop=yes'], ...service() });
  writeUnit(sandbox, 'reloader.service', service([`ExecReload=/usr/bin/touch ${scratch}/reloaded`]));
  writeUnit(sandbox, 'broken.service', service(['ExecStartPre=/bin/false']));
  writeUnit(sandbox, 'slow.service', service(['ExecStartPre=/bin/sleep 3']));
  writeUnit(sandbox, 'echo.socket', { Socket: [`ListenStream=${scratch}/echo.sock`] });
  writeUnit(sandbox, 'echo.service', service());
  await systemctl(sandbox, 'daemon-reload');
  await systemctl(sandbox, 'start', 'plain.service', 'refuser.service', 'reloader.service', 'echo.socket');
  manager = await connectSystemd({ busAddress: sandbox.busAddress });
});

afterAll(async () => {
  manager?.close();
  await sandbox?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('systemd adapter on a real systemd', () => {
  it('finds the manager process behind the bus: its PID, root and cgroup tree', () => {
    expect(manager.process).toEqual({
      hostPid: sandbox.hostPid,
      rootPrefix: `/proc/${sandbox.hostPid}/root`,
      cgroupRoot: sandbox.cgroupPrefix,
      nsLevel: 1,
    });
  });

  it('reads unit facts from the bus', async () => {
    const facts = await manager.unitFacts('refuser.service');
    expect(facts).toMatchObject({
      name: 'refuser.service',
      loadState: 'loaded',
      activeState: 'active',
      fragmentPath: '/run/systemd/system/refuser.service',
      refuseManualStop: true,
      canReload: false,
      unitFileChanged: false,
      controlGroup: '/system.slice/refuser.service',
    });
    expect(facts.mainPid).toBe(await mainPidOf(sandbox, 'refuser.service'));
    expect(await manager.unitFacts('reloader.service')).toMatchObject({ canReload: true, refuseManualStop: false });
    expect((await manager.unitFacts('echo.service')).triggeredBy).toEqual(['echo.socket']);
    expect(await manager.unitFacts('absent.service')).toMatchObject({ loadState: 'not-found', mainPid: 0 });
  });

  it('maps host PIDs to units through the PID namespace (NSpid)', async () => {
    const [hostPid] = hostPidsOfUnit(sandbox, cgroup2Root(), 'plain.service');
    expect(hostPid).toBeDefined();
    expect(manager.toManagerPid(hostPid ?? 0)).toBe(await mainPidOf(sandbox, 'plain.service'));
    expect(await manager.unitByPid(hostPid ?? 0)).toBe('plain.service');
    // Our own process is not in the sandbox's PID namespace.
    expect(manager.toManagerPid(process.pid)).toBeUndefined();
    expect(await manager.unitByPid(process.pid)).toBeUndefined();
  });

  it('restarts a unit: the job is done and the MainPID changes', async () => {
    const before = (await manager.unitState('plain.service')).mainPid;
    const done = await manager.waitForJob(await manager.restart('plain.service'), JOB_MS);
    expect(done.result).toBe('done');
    expect(done.durationMs).toBeGreaterThan(0);
    const after = (await manager.unitState('plain.service')).mainPid;
    expect(after).not.toBe(before);
    expect(after).toBe(await mainPidOf(sandbox, 'plain.service'));
  });

  it('reports a failed start as the job result "failed", and reset-failed clears it', async () => {
    const done = await manager.waitForJob(await manager.start('broken.service'), JOB_MS);
    expect(done.result).toBe('failed');
    expect(await unitProperty(sandbox, 'broken.service', 'ActiveState')).toBe('failed');
    await manager.resetFailed('broken.service');
    expect(await unitProperty(sandbox, 'broken.service', 'ActiveState')).toBe('inactive');
    await manager.resetFailed('never-loaded.service');
  });

  it('reloads a unit: ExecReload ran, the MainPID stays', async () => {
    const before = (await manager.unitState('reloader.service')).mainPid;
    expect((await manager.waitForJob(await manager.reload('reloader.service'), JOB_MS)).result).toBe('done');
    expect(existsSync(join(scratch, 'reloaded'))).toBe(true);
    expect((await manager.unitState('reloader.service')).mainPid).toBe(before);
  });

  it('matches a JobRemoved that arrived before anyone waited for the job', async () => {
    const job = await manager.start('plain.service'); // already active: the job finishes at once
    await new Promise((resolve) => setTimeout(resolve, 200));
    const done = await manager.waitForJob(job, JOB_MS);
    expect(done.result).toBe('done');
    expect(done.job.path).toBe(job.path);
  });

  it('matches every one of many fast jobs, whichever of reply and signal comes first', async () => {
    const results = [];
    for (let i = 0; i < 40; i++) results.push(await manager.waitForJob(await manager.start('plain.service'), JOB_MS));
    expect(new Set(results.map((r) => r.job.path)).size).toBe(40);
    expect(results.map((r) => r.result)).toEqual(Array(40).fill('done'));
    // An already-active unit's start job ends at once: systemd's reply and its JobRemoved usually come
    // in one read from the socket, and the signal is handled before the awaited reply (36 of 40 here).
    expect(results.filter((r) => r.signalBeforeReply).length).toBeGreaterThan(0);
  });

  it('resolves every wait of jobs systemd merged into one', async () => {
    const jobs = await Promise.all(Array.from({ length: 20 }, () => manager.start('plain.service')));
    const results = await Promise.all(jobs.map((job) => manager.waitForJob(job, JOB_MS)));
    expect(results.map((r) => r.result)).toEqual(Array(20).fill('done'));
  });

  it('gives up waiting for a job after its timeout, with JOB_TIMEOUT', async () => {
    const job = await manager.start('slow.service');
    const error = await manager.waitForJob(job, 150).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RestartdError);
    expect((error as RestartdError).code).toBe('JOB_TIMEOUT');
    expect((await manager.waitForJob(await manager.stop('slow.service'), JOB_MS)).result).toBe('done');
  });

  it('sees a changed unit file (NeedDaemonReload) until a daemon-reload', async () => {
    writeUnit(sandbox, 'plain.service', { Unit: ['Description=changed'], Service: ['Type=exec', 'ExecStart=/bin/sleep infinity'] });
    expect((await manager.unitFacts('plain.service')).unitFileChanged).toBe(true);
    await manager.daemonReload();
    expect((await manager.unitFacts('plain.service')).unitFileChanged).toBe(false);
  });

  it('re-executes the manager and keeps tracking jobs afterwards', async () => {
    const before = await mainPidOf(sandbox, 'plain.service');
    await manager.reexecute();
    expect(await mainPidOf(sandbox, 'plain.service')).toBe(before);
    expect((await manager.waitForJob(await manager.restart('plain.service'), JOB_MS)).result).toBe('done');
  });

  it('fails fast with BUS when nothing listens at the address', async () => {
    const error = await connectSystemd({ busAddress: `unix:path=${scratch}/no-bus` }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RestartdError);
    expect((error as RestartdError).code).toBe('BUS');
  });
});
