import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, renameSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectStale } from '../src/detect.js';
import { scanProcesses } from '../src/scan/scan-processes.js';
import { runCli } from './support/cli.js';
import { scratchRoot } from './support/scratch.js';
import { exeOf, until } from './support/live-process.js';
import type { StaleReport } from '../src/report/stale-json.js';

describe('scanProcesses and detectStale on live processes', () => {
  const scratch = scratchRoot('scan');
  const { root } = scratch;
  const children: ChildProcess[] = [];
  let holder: number;
  let clean: number;

  beforeAll(async () => {
    copyFileSync('/bin/sleep', `${root}/sleepy`);
    writeFileSync(`${root}/config with space.dat`, 'generation 1\n');
    writeFileSync(`${root}/unchanged.dat`, 'stays\n');
    // holder: exe from the root, fd 3 on the config file; clean: fd on an unchanged file only.
    const h = spawn('bash', ['-c', `exec 3<"${root}/config with space.dat"; exec "${root}/sleepy" 1000`], { stdio: 'ignore' });
    const c = spawn('bash', ['-c', `exec 3<"${root}/unchanged.dat"; exec "${root}/sleepy" 1001`], { stdio: 'ignore' });
    children.push(h, c);
    holder = h.pid!;
    clean = c.pid!;
    await until(() => exeOf(holder) === `${root}/sleepy` && exeOf(clean) === `${root}/sleepy`, 'both to exec');
  });

  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
    scratch.remove();
  });

  it('reads exe, mappings with inodes, fds, cwd, root, cgroup and start time', async () => {
    const { processes, unreadable } = await scanProcesses({ pids: [holder] });
    expect(unreadable).toEqual([]);
    const image = processes[0]!;
    expect(image.pid).toBe(holder);
    expect(image.exe).toBe(`${root}/sleepy`);
    expect(image.startTime).toBeGreaterThan(0);
    expect(image.root).toBe('/');
    expect(image.mntNs).toMatch(/^mnt:\[\d+\]$/);
    expect(image.cgroup.length).toBeGreaterThan(0);
    const fd = image.files.find((f) => f.via === 'fd' && f.path === `${root}/config with space.dat`);
    expect(fd).toMatchObject({ deleted: false, fd: 3 });
    const exeMap = image.files.find((f) => f.via === 'map' && f.path === `${root}/sleepy`);
    expect(exeMap?.ino).toBeGreaterThan(0);
  });

  it('a pid that does not exist is counted as vanished, not an error', async () => {
    const result = await scanProcesses({ pids: [2 ** 22 + 12345] });
    expect(result).toMatchObject({ processes: [], vanished: 1, unreadable: [] });
  });

  it('nothing is stale before the switch; after an in-place replace exactly the holder is', async () => {
    const before = await detectStale({ pids: [holder, clean] });
    expect(before.stale).toEqual([]);

    // dpkg-style: new content to a temp name, renamed over the old one.
    writeFileSync(`${root}/config with space.dat.new`, 'generation 2\n');
    renameSync(`${root}/config with space.dat.new`, `${root}/config with space.dat`);
    copyFileSync('/bin/sleep', `${root}/sleepy.new`); // byte-identical new inode
    renameSync(`${root}/sleepy.new`, `${root}/sleepy`);

    const after = await detectStale({ pids: [holder, clean] });
    expect(after.stale.map((p) => p.pid)).toEqual([holder]);
    expect(after.stale[0]?.files.map((f) => [f.path, f.kind, f.via])).toEqual([[`${root}/config with space.dat`, 'deleted', 'fd']]);
  });

  it('an unprivileged user scans without failing and sees root processes as unreadable', async () => {
    const run = await runCli(['status', '--json'], { uid: 65534, gid: 65534 });
    expect(run.stderr).toBe('');
    // Blind to root's processes: never "up to date", but UNKNOWN (exit 3) and "run as root".
    expect(run.code).toBe(3);
    const report = JSON.parse(run.stdout) as StaleReport & { verdict?: string };
    expect(JSON.stringify(report)).toMatch(/run as root/);
    expect(report.unreadable.map((u) => u.pid)).toContain(holder);
    expect(report.unreadable.find((u) => u.pid === holder)?.code).toBe('EACCES');
    expect(report.stale.map((p) => p.pid)).not.toContain(holder);
    expect(report.scanned.unreadable).toBe(report.unreadable.length);
  });
});
