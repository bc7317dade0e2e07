import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runStatus } from '../src/run/status-run.js';
import type { StaleProcess } from '../src/types/stale.js';
import type { OwnerKind } from '../src/types/owner.js';
import { readKernelFacts } from '../src/status/kernel-facts.js';
import { compareKernelReleases, decideReboot, describeRebootReason, statusExitCode, systemPieceOf } from '../src/status/reboot-tier.js';
import type { KernelFacts } from '../src/types/status.js';
import { mapsLine, ProcFixture } from './support/proc-fixture.js';

function stale(pid: number, kind: OwnerKind, name: string, ...paths: string[]): StaleProcess {
  return {
    pid,
    ppid: 1,
    startTime: 100 + pid,
    uid: 0,
    comm: name,
    exe: `/usr/bin/${name}`,
    owner: { kind, name },
    files: paths.map((path) => ({ path, kind: 'deleted', via: 'map' })),
  };
}

const sameKernel: KernelFacts = { running: '6.1.0-18-amd64', installed: [{ release: '6.1.0-18-amd64', from: '/lib/modules' }] };
const newerKernel: KernelFacts = {
  running: '6.1.0-18-amd64',
  installed: [
    { release: '6.1.0-18-amd64', from: '/lib/modules' },
    { release: '6.1.0-21-amd64', from: '/lib/modules' },
  ],
};

describe('reboot tiers', () => {
  const cases: Array<[string, StaleProcess[], KernelFacts, string, string[]]> = [
    ['nothing stale, same kernel', [], sameKernel, 'none', []],
    ['an app holds an old lib', [stale(10, 'system-unit', 'nginx.service', '/usr/lib/libssl.so.3')], sameKernel, 'restarts', ['processes-stale']],
    ['PID 1 holds old libc: only PID 1', [stale(1, 'pid1', 'init', '/usr/lib/x86_64-linux-gnu/libc.so.6')], sameKernel, 'daemon-reexec', ['pid1-stale']],
    [
      'libc stale beyond PID 1',
      [stale(1, 'pid1', 'init', '/usr/lib/libc.so.6'), stale(10, 'system-unit', 'cron.service', '/usr/lib/libc.so.6')],
      sameKernel,
      'soft-reboot',
      ['pid1-stale', 'system-wide-stale', 'processes-stale'],
    ],
    ['dbus-broker stale', [stale(20, 'system-unit', 'dbus-broker.service', '/usr/bin/dbus-broker')], sameKernel, 'soft-reboot', ['system-wide-stale', 'processes-stale']],
    ['a nix glibc in the store', [stale(21, 'system-unit', 'sshd.service', '/nix/store/0123456789abcdfghijklmnpqrsvwxyz-glibc-2.39/lib/ld-linux-x86-64.so.2')], sameKernel, 'soft-reboot', ['system-wide-stale', 'processes-stale']],
    ['a newer kernel, nothing stale', [], newerKernel, 'reboot', ['kernel-changed']],
    ['a newer kernel wins over a soft-reboot', [stale(22, 'user-unit', 'user@1000.service', '/usr/lib/systemd/libsystemd-shared-252.so')], newerKernel, 'reboot', ['kernel-changed', 'system-wide-stale', 'processes-stale']],
  ];
  it.each(cases)('%s', (_name, processes, kernel, tier, codes) => {
    const decision = decideReboot(processes, kernel);
    expect(decision.tier).toBe(tier);
    expect(decision.reasons.map((r) => r.code)).toEqual(codes);
  });

  it("follows the plan: owners it leaves for a reboot ask for a soft-reboot, not restarts", () => {
    const processes = [stale(30, 'system-unit', 'systemd-logind.service', '/usr/lib/x86_64-linux-gnu/libpcre2-8.so.0'), stale(31, 'system-unit', 'gdm.service', '/usr/lib/libfoo.so')];
    const act = (pid: number, unit: string, action: 'reboot-hint' | 'skip', reason: string) => ({ owner: { kind: 'system-unit' as const, name: unit }, unit, action, reason, pids: [pid], phase: 'none' as const });
    const decision = decideReboot(processes, sameKernel, [act(30, 'systemd-logind.service', 'reboot-hint', 'logind'), act(31, 'gdm.service', 'skip', 'protected-unit')]);
    expect(decision.tier).toBe('soft-reboot');
    expect(decision.reasons).toEqual([{ code: 'owners-need-reboot', owners: [{ name: 'gdm.service', action: 'protected-unit' }, { name: 'systemd-logind.service', action: 'reboot-hint' }], processes: 2 }]);
    expect(describeRebootReason(decision.reasons[0]!)).toBe('gdm.service (protected-unit), systemd-logind.service (reboot-hint): left for a reboot by the plan, no apply restarts them');
    // Without the plan, the same processes are restarts.
    expect(decideReboot(processes, sameKernel).tier).toBe('restarts');
  });

  it('says why, naming the kernels and the piece', () => {
    const decision = decideReboot([stale(10, 'system-unit', 'cron.service', '/usr/lib/libc.so.6')], newerKernel);
    expect(decision.reasons.map(describeRebootReason)).toEqual([
      'kernel 6.1.0-21-amd64 is installed (/lib/modules), 6.1.0-18-amd64 is running',
      'libc is stale in 1 process (/usr/lib/libc.so.6)',
      '1 stale process in 1 owner',
    ]);
    expect(decision.kernel).toEqual({ status: 'changed', running: '6.1.0-18-amd64', newest: '6.1.0-21-amd64' });
  });

  it('a running kernel newer than every installed one, or unknown, asks for no reboot', () => {
    expect(decideReboot([], { running: '6.10.2', installed: [{ release: '6.9.12', from: '/lib/modules' }] }).tier).toBe('none');
    expect(decideReboot([], { installed: [{ release: '6.9.12', from: '/lib/modules' }] }).kernel.status).toBe('unknown');
    expect(decideReboot([], { running: '6.9.12', installed: [] }).kernel).toEqual({ status: 'unknown', running: '6.9.12' });
  });

  it('orders kernel releases like sort -V', () => {
    const releases = ['6.10.2', '6.1.0-18-amd64', '6.1.0-3-amd64', '5.15.0', '6.1.0', '6.1.0-18-cloud-amd64'];
    expect([...releases].sort(compareKernelReleases)).toEqual(['5.15.0', '6.1.0', '6.1.0-3-amd64', '6.1.0-18-amd64', '6.1.0-18-cloud-amd64', '6.10.2']);
  });

  it.each([
    ['/usr/lib/x86_64-linux-gnu/libc.so.6', 'libc'],
    ['/lib64/ld-linux-x86-64.so.2', 'dynamic-loader'],
    ['/usr/lib/libsystemd.so.0.35.0', 'libsystemd'],
    ['/usr/bin/dbus-daemon', 'dbus'],
    ['/usr/lib/systemd/systemd', 'systemd'],
    ['/usr/lib/libcrypto.so.3', undefined],
    ['/usr/lib/libcap.so.2', undefined],
  ])('%s is %s', (path, piece) => expect(systemPieceOf(path)).toBe(piece));

  it('maps tiers to nagios levels', () => {
    expect(statusExitCode(decideReboot([], sameKernel))).toBe(0);
    expect(statusExitCode(decideReboot([stale(1, 'pid1', 'init', '/usr/lib/libc.so.6')], sameKernel))).toBe(1);
    expect(statusExitCode(decideReboot([stale(9, 'process', 'pid:9', '/usr/lib/libc.so.6')], sameKernel))).toBe(2);
    expect(statusExitCode(decideReboot([], newerKernel))).toBe(2);
  });
});

describe('kernel facts from a fake kernel layout', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function layout(running: string, installed: string[]): { proc: string; modules: string } {
    dir = mkdtempSync(join(tmpdir(), 'restartd-kernel-'));
    const proc = join(dir, 'proc');
    mkdirSync(join(proc, 'sys', 'kernel'), { recursive: true });
    writeFileSync(join(proc, 'sys', 'kernel', 'osrelease'), `${running}\n`);
    const modules = join(dir, 'lib', 'modules');
    for (const release of installed) mkdirSync(join(modules, release, 'kernel'), { recursive: true });
    return { proc, modules };
  }

  it('reads the running release and the installed ones; a missing modules dir adds none', async () => {
    const { proc, modules } = layout('6.1.0-18-amd64', ['6.1.0-18-amd64', '6.1.0-21-amd64', '.hidden']);
    const facts = await readKernelFacts({ procRoot: proc, modulesDirs: [modules, join(dir, 'absent')] });
    expect(facts.running).toBe('6.1.0-18-amd64');
    expect(facts.installed.map((k) => k.release).sort()).toEqual(['6.1.0-18-amd64', '6.1.0-21-amd64']);
    expect(decideReboot([], facts).tier).toBe('reboot');
  });

  it('a fixture /proc without osrelease leaves the running kernel unknown (no uname fallback)', async () => {
    const { modules } = layout('x', ['6.1.0']);
    expect(await readKernelFacts({ procRoot: join(dir, 'nothing'), modulesDirs: [modules] })).toEqual({ installed: [{ release: '6.1.0', from: modules }] });
  });

  it('the status run exits 2 (reboot) with a newer kernel installed, and says why in JSON', async () => {
    const { modules } = layout('6.1.0-18-amd64', ['6.1.0-18-amd64', '6.1.0-21-amd64']);
    const fixture = new ProcFixture();
    try {
      const lib = fixture.file('/usr/lib/libssl.so.3', 'new build');
      fixture.add({ pid: 30, comm: 'nginx', exe: '/usr/sbin/nginx', maps: mapsLine('1000-2000', 'r-xp', lib.ino + 100000, lib.path), cgroup: '0::/system.slice/nginx.service\n' });
      mkdirSync(join(fixture.proc, 'sys', 'kernel'), { recursive: true });
      writeFileSync(join(fixture.proc, 'sys', 'kernel', 'osrelease'), '6.1.0-18-amd64\n');
      // Nothing of this machine's: no state dir, no registrations, no system bus.
      const none = join(fixture.proc, 'none');
      const { exitCode, report } = await runStatus({ procRoot: fixture.proc, modulesDirs: [modules], generations: [], stateDir: none, awareDirs: [], busAddress: `unix:path=${none}` });
      expect(exitCode).toBe(2);
      expect(report.reboot.tier).toBe('reboot');
      expect(report.reboot.reasons.map((r) => r.code)).toEqual(['kernel-changed', 'processes-stale']);
      expect(report.stale.map((p) => p.pid)).toEqual([30]);
      expect(report.installed).toBeUndefined();
    } finally {
      fixture.remove();
    }
  });
});
