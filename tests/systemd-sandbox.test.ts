import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxDir, startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { cgroup2Root } from './support/systemd/tree.js';
import { hostPidsOfUnit, systemctl, unitProperty, writeUnit } from './support/systemd/units.js';

let sandbox: SystemdSandbox;
let bootMs = 0;

beforeAll(async () => {
  const started = performance.now();
  sandbox = await startSystemd({ label: 'sbx' });
  bootMs = performance.now() - started;
});

afterAll(async () => {
  await sandbox?.stop();
});

function gone(s: SystemdSandbox): boolean {
  return !existsSync(s.dir) && !existsSync(join(cgroup2Root(), s.cgroupPrefix)) && !existsSync(`/proc/${s.hostPid}`);
}

describe('the systemd test sandbox', () => {
  it('boots a real systemd as PID 1 of its own PID namespace, in well under the test budget', async () => {
    expect(bootMs).toBeLessThan(10_000);
    const nspid = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${sandbox.hostPid}/status`, 'utf8'))?.[1]?.split(/\s+/);
    expect(nspid?.at(-1)).toBe('1');
    expect(readFileSync(`/proc/${sandbox.hostPid}/comm`, 'utf8').trim()).toBe('systemd');
    expect((await systemctl(sandbox, 'is-system-running')).trim()).toMatch(/^(running|degraded)$/);
  });

  it('loads no host unit: only its own directories and an allow-list of vendor units', async () => {
    for (const unit of ['systemd-tmpfiles-setup.service', 'systemd-tmpfiles-clean.timer', 'cron.service', 'getty@tty1.service']) {
      expect(await unitProperty(sandbox, unit, 'LoadState')).toBe('not-found');
    }
    expect(await unitProperty(sandbox, 'dbus.service', 'ActiveState')).toBe('active');
  });

  it('has a private /run (its state dir) and read-only /proc/sys and /sys', async () => {
    writeFileSync(join(sandbox.dir, 'run', 'probe'), 'from the host');
    expect((await sandbox.exec(['cat', '/run/probe'])).stdout).toBe('from the host');
    for (const mount of ['/proc/sys', '/sys']) {
      expect((await sandbox.exec(['findmnt', '-no', 'OPTIONS', mount])).stdout).toMatch(/^ro,/);
    }
  });

  it('runs units in its own cgroup tree, under cgroupPrefix as the host reads it', async () => {
    writeUnit(sandbox, 'probe.service', { Service: ['Type=exec', 'ExecStart=/bin/sleep infinity'] });
    await systemctl(sandbox, 'daemon-reload');
    await systemctl(sandbox, 'start', 'probe.service');
    const [pid] = hostPidsOfUnit(sandbox, cgroup2Root(), 'probe.service');
    expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toContain(`0::${sandbox.cgroupPrefix}/system.slice/probe.service\n`);
    expect(sandbox.busAddress).toBe(`unix:path=${sandbox.dir}/run/dbus/system_bus_socket`);
  });

  it('stops without leaving anything behind: processes, cgroup, state directory', async () => {
    const other = await startSystemd({ label: 'sbx2' });
    writeUnit(other, 'probe.service', { Service: ['ExecStart=/bin/sleep infinity'] });
    await systemctl(other, 'daemon-reload');
    await systemctl(other, 'start', 'probe.service');
    const started = performance.now();
    await other.stop();
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(gone(other)).toBe(true);
    await other.stop(); // idempotent
  });

  it('stops a sandbox whose test process died before its afterAll, at the next start', async () => {
    const orphan = await startSystemd({ label: 'orphan' });
    // As if the process that started it had exited: an owner that is no longer alive.
    writeFileSync(join(orphan.dir, 'owner'), '999999999 1\n');
    const next = await startSystemd({ label: 'sbx3' });
    expect(gone(orphan)).toBe(true);
    await next.stop();
    expect(basename(sandboxDir('x'))).toBe(`rdsd-x-${process.pid}`);
  });
});
