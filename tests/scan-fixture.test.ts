import { afterEach, describe, expect, it } from 'vitest';
import { detectStale } from '../src/detect.js';
import { scanProcesses } from '../src/scan/scan-processes.js';
import { mapsLine, ProcFixture } from './support/proc-fixture.js';

let fixture: ProcFixture;
afterEach(() => fixture.remove());

function setup(): ProcFixture {
  fixture = new ProcFixture();
  return fixture;
}

describe('scan of fixture /proc trees', () => {
  it('skips a process that vanished mid-scan and reports an unreadable one without failing', async () => {
    const f = setup();
    const lib = f.file('/opt/app/lib.so', 'v1');
    f.add({ pid: 10, exe: '/opt/app/bin', maps: mapsLine('1000-2000', 'r-xp', lib.ino, lib.path) });
    f.add({ pid: 11, exe: '/opt/app/bin', maps: null }); // exited between reading stat and maps
    f.add({ pid: 12, exe: '/opt/app/bin', brokenEntries: ['maps'] }); // maps can't be read
    const result = await scanProcesses({ procRoot: f.proc });
    expect(result.processes.map((p) => p.pid)).toEqual([10, 12]);
    expect(result.vanished).toBe(1);
    expect(result.unreadable).toEqual([{ pid: 12, what: 'maps', code: 'EISDIR' }]);
  });

  it('parses odd names: spaces, newlines, parentheses in comm, literal "(deleted)"', async () => {
    const f = setup();
    const spaced = f.file('/opt/my app/lib one.so', 'x');
    const newline = f.file('/opt/new\nline.so', 'y');
    const literal = f.file('/opt/weird (deleted)', 'z');
    const maps =
      mapsLine('1000-2000', 'r-xp', spaced.ino, spaced.path) +
      mapsLine('3000-4000', 'r-xp', newline.ino, '/opt/new\\012line.so') +
      mapsLine('5000-6000', 'r--p', literal.ino, '/opt/weird (deleted)');
    f.add({ pid: 20, comm: 'a (b) c', exe: '/opt/my app/lib one.so', maps });
    const { processes } = await scanProcesses({ procRoot: f.proc });
    expect(processes[0]?.comm).toBe('a (b) c');
    expect(processes[0]?.files.filter((x) => x.via === 'map').map((x) => [x.path, x.deleted])).toEqual([
      ['/opt/my app/lib one.so', false],
      ['/opt/new\nline.so', false],
      ['/opt/weird', true],
    ]);
    // The kernel's marker was part of the name: the held inode is the file "/opt/weird (deleted)".
    const { stale } = await detectStale({ procRoot: f.proc, scratchDirs: [] });
    expect(stale).toEqual([]);
  });

  it('resolves paths through the process root (a container) and finds a replaced file there', async () => {
    const f = setup();
    const lib = f.file('/usr/lib/libssl.so.3', 'new build');
    const keep = f.file('/usr/lib/libc.so.6', 'libc');
    const maps = mapsLine('1000-2000', 'r-xp', lib.ino + 100000, lib.path) + mapsLine('3000-4000', 'r-xp', keep.ino, keep.path);
    f.add({ pid: 30, exe: '/usr/sbin/nginx', maps, mntNs: 'mnt:[4026532000]', cgroup: '0::/system.slice/docker-0123456789abcdef.scope\n' });
    const { stale } = await detectStale({ procRoot: f.proc });
    expect(stale).toHaveLength(1);
    expect(stale[0]?.owner).toMatchObject({ kind: 'container', name: '0123456789abcdef' });
    expect(stale[0]?.files.map((x) => [x.path, x.kind])).toEqual([['/usr/lib/libssl.so.3', 'replaced']]);
  });

  it('a replacement with the same bytes is not stale (compared through map_files)', async () => {
    const f = setup();
    const now = f.file('/usr/lib/libz.so.1', 'same bytes');
    const held = f.file('/held/libz-old', 'same bytes');
    const other = f.file('/usr/lib/libq.so', 'new bytes');
    const heldOther = f.file('/held/libq-old', 'old bytes');
    const maps = mapsLine('1000-2000', 'r-xp', now.ino + 1, now.path) + mapsLine('3000-4000', 'r-xp', other.ino + 1, other.path);
    f.add({ pid: 40, exe: '/usr/bin/x', maps, mapFiles: { '1000-2000': held.host, '3000-4000': heldOther.host } });
    const { stale } = await detectStale({ procRoot: f.proc });
    expect(stale[0]?.files.map((x) => [x.path, x.kind])).toEqual([['/usr/lib/libq.so', 'replaced']]);
  });

  it('ignores kernel threads, zombies, memfd executables and writable deleted fds', async () => {
    const f = setup();
    f.add({ pid: 2, comm: 'kthreadd', flags: 0x00200040 });
    f.add({ pid: 50, state: 'Z' });
    f.add({ pid: 51, exe: '/memfd:runner (deleted)', maps: mapsLine('1000-2000', 'r-xp', 7, '/memfd:runner (deleted)', '00:01') });
    f.add({ pid: 52, exe: '/usr/bin/db', fds: { 5: '/srv/db/journal (deleted)' }, fdinfo: { 5: 'pos:\t0\nflags:\t0100002\n' } });
    f.add({ pid: 53, exe: '/usr/bin/reader', fds: { 5: '/srv/db/config (deleted)' }, fdinfo: { 5: 'pos:\t0\nflags:\t0100000\n' } });
    const { stale, scan } = await detectStale({ procRoot: f.proc });
    expect(scan.processes.find((p) => p.pid === 2)?.kernelThread).toBe(true);
    expect(stale.map((p) => [p.pid, p.files.map((x) => [x.path, x.kind])])).toEqual([[53, [['/srv/db/config', 'deleted']]]]);
  });
});
