import { linkSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStatus, type StatusCommandArgs } from '../src/cli/status-command.js';
import type { StatusReport } from '../src/report/status-json.js';
import { formatBytes, renderStatusText } from '../src/report/status-text.js';
import { wantsColour } from '../src/status/colour.js';
import { mapsLine, ProcFixture } from './support/proc-fixture.js';

let tmp: string;
let fixture: ProcFixture;
let base: StatusCommandArgs;

function write(path: string, bytes: number): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, 'x'.repeat(bytes));
}

/** A machine: PID 1 and cron on an old libc, nginx on an old libssl, kernel 6.1.0-18 running and installed, two deployments. */
beforeAll(() => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), 'restartd-status-')));
  fixture = new ProcFixture();
  const libc = fixture.file('/usr/lib/x86_64-linux-gnu/libc.so.6', 'new libc');
  const ssl = fixture.file('/usr/lib/x86_64-linux-gnu/libssl.so.3', 'new libssl');
  const oldLibc = mapsLine('1000-2000', 'r-xp', libc.ino + 100000, libc.path);
  fixture.add({ pid: 1, comm: 'systemd', exe: '/usr/lib/systemd/systemd', maps: oldLibc, cgroup: '0::/init.scope\n' });
  fixture.add({ pid: 412, comm: 'cron', exe: '/usr/sbin/cron', maps: oldLibc, cgroup: '0::/system.slice/cron.service\n' });
  fixture.add({
    pid: 733,
    comm: 'nginx',
    exe: '/usr/sbin/nginx',
    maps: mapsLine('3000-4000', 'r-xp', ssl.ino + 100000, ssl.path),
    cgroup: '0::/system.slice/nginx.service\n',
  });
  mkdirSync(join(fixture.proc, 'sys', 'kernel'), { recursive: true });
  writeFileSync(join(fixture.proc, 'sys', 'kernel', 'osrelease'), '6.1.0-18-amd64\n');
  const modules = join(tmp, 'lib', 'modules');
  mkdirSync(join(modules, '6.1.0-18-amd64'), { recursive: true });
  const deploy = join(tmp, 'deploy');
  write(join(deploy, 'aaaa.0', 'usr', 'lib', 'libc.so.6'), 2048);
  mkdirSync(join(deploy, 'aaaa.1', 'usr', 'lib'), { recursive: true });
  linkSync(join(deploy, 'aaaa.0', 'usr', 'lib', 'libc.so.6'), join(deploy, 'aaaa.1', 'usr', 'lib', 'libc.so.6'));
  write(join(deploy, 'aaaa.1', 'usr', 'bin', 'new'), 3 * 1024 * 1024);
  // Nothing of this machine's: no state dir, no registrations, no system bus (units stay unit-unknown).
  base = {
    json: true, procRoot: fixture.proc, modulesDirs: [modules], generations: [deploy], bootedRoot: join(deploy, 'aaaa.0'), colour: false,
    stateDir: join(tmp, 'state'), awareDirs: [], bus: `unix:path=${join(tmp, 'no-bus')}`,
  };
});
afterAll(() => {
  fixture.remove();
  rmSync(tmp, { recursive: true, force: true });
});

async function status(args: Partial<StatusCommandArgs> = {}): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await runStatus({ ...base, ...args }, { out: (t) => (out += t), err: () => {} });
  return { code, out: out.replaceAll(tmp, '<tmp>') };
}

describe('restartd status report', () => {
  it('JSON: the stale array as plan prints it, plus reboot and installed; soft-reboot exits 2', async () => {
    const { code, out } = await status();
    const report = JSON.parse(out) as StatusReport;
    expect(code).toBe(2);
    expect(report.stale.map((p) => [p.pid, p.owner.kind, p.files.map((f) => f.kind)])).toEqual([
      [1, 'pid1', ['replaced']],
      [412, 'system-unit', ['replaced']],
      [733, 'system-unit', ['replaced']],
    ]);
    expect(report.reboot.tier).toBe('soft-reboot');
    expect(report.reboot.kernel).toEqual({ status: 'unchanged', running: '6.1.0-18-amd64', newest: '6.1.0-18-amd64' });
    expect(report.installed?.[0]?.generations.map((g) => [g.name, g.current, g.uniqueBytes])).toEqual([
      ['aaaa.0', true, 0],
      ['aaaa.1', false, 3 * 1024 * 1024],
    ]);
    expect(report.generations).toBeUndefined();
  });

  it('the human report reads top-down: verdict, why, kernel, generations, stale processes', async () => {
    const json = JSON.parse((await status()).out) as StatusReport;
    // The scan's duration is the one unstable number.
    json.scanned.durationMs = 0;
    expect(renderStatusText(json)).toMatchInlineSnapshot(`
      "status: soft-reboot needed (systemctl soft-reboot; the kernel is current)
        - PID 1 holds 1 old file (/usr/lib/x86_64-linux-gnu/libc.so.6)
        - libc is stale in 1 process (/usr/lib/x86_64-linux-gnu/libc.so.6)
        - 2 stale processes in 2 owners
      kernel: 6.1.0-18-amd64 running, newest installed 6.1.0-18-amd64

      <tmp>/deploy (deployments): 2 generations
        aaaa.0       [current, booted] 2.0 KiB
        aaaa.1       3.0 MiB, 3.0 MiB unique, 2.0 KiB shared with current
        the other generations take 3.0 MiB more than the current one

      scanned 3 processes in 0.00 s: 3 stale processes in 3 owners

      init (pid1) — 1 process
              1  systemd  /usr/lib/systemd/systemd
                 replaced        /usr/lib/x86_64-linux-gnu/libc.so.6

      cron.service (system-unit) — 1 process
            412  cron  /usr/sbin/cron
                 replaced        /usr/lib/x86_64-linux-gnu/libc.so.6

      nginx.service (system-unit) — 1 process
            733  nginx  /usr/sbin/nginx
                 replaced        /usr/lib/x86_64-linux-gnu/libssl.so.3
      "
    `);
  });

  it('prints extra sections (registrations, last runs) before the stale processes', async () => {
    const json = JSON.parse((await status()).out) as StatusReport;
    const text = renderStatusText(json, { sections: [{ title: 'update-aware apps: 1', lines: ['pid 99 appd (signal SIGHUP)'] }] });
    expect(text).toContain('\nupdate-aware apps: 1\n  pid 99 appd (signal SIGHUP)\n\nscanned 3 processes');
  });

  it('colours the verdict only when asked', async () => {
    const { out } = await status({ json: false, colour: true });
    expect(out).toContain('status: \x1b[31msoft-reboot needed');
    expect((await status({ json: false, colour: false })).out).not.toContain('\x1b[');
  });

  it.each([
    [true, {}, true],
    [false, {}, false],
    [undefined, {}, false],
    [true, { NO_COLOR: '1' }, false],
    [true, { NO_COLOR: '' }, true],
    [true, { TERM: 'dumb' }, false],
  ])('wantsColour(isTTY=%s, %j) is %s', (tty, env, expected) => expect(wantsColour(tty, env)).toBe(expected));

  it('formats bytes for people', () => {
    expect([0, 1023, 1024, 1536, 3 * 1024 * 1024, 5 * 1024 ** 3].map(formatBytes)).toEqual(['0 B', '1023 B', '1.0 KiB', '1.5 KiB', '3.0 MiB', '5.0 GiB']);
  });

  it('--prometheus prints the same picture as gauges a real parser reads', async () => {
    const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Array<{ name: string; metrics: Array<{ value: string; labels?: Record<string, string> }> }>;
    const { code, out } = await status({ json: false, prometheus: true });
    const families = new Map(parse(out).map((f) => [f.name, f.metrics]));
    expect(code).toBe(2);
    expect(families.get('restartd_status')).toEqual([{ value: '2' }]);
    expect(families.get('restartd_stale_processes')).toEqual([{ value: '3' }]);
    expect(families.get('restartd_reboot_required')?.find((m) => m.labels?.['tier'] === 'soft-reboot')?.value).toBe('1');
    expect(families.get('restartd_generation_unique_bytes')).toEqual([
      { value: '0', labels: { source: '<tmp>/deploy', kind: 'deployments', generation: 'aaaa.0' } },
      { value: String(3 * 1024 * 1024), labels: { source: '<tmp>/deploy', kind: 'deployments', generation: 'aaaa.1' } },
    ]);
  });

  it('--json and --prometheus exclude each other', async () => {
    await expect(status({ json: true, prometheus: true })).rejects.toThrow('--json and --prometheus exclude each other');
  });
});
