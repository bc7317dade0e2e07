import { describe, expect, it } from 'vitest';
import type { ChangeSet } from '../src/types/generation.js';
import type { DiskFact } from '../src/match/disk-fact.js';
import { matchStale } from '../src/match/match-stale.js';
import type { FileRef, ProcessImage } from '../src/types/process.js';

function proc(pid: number, files: FileRef[]): ProcessImage {
  return {
    pid,
    ppid: 1,
    startTime: 1000 + pid,
    comm: `p${pid}`,
    uid: 0,
    exe: files.find((f) => f.via === 'exe')?.path ?? '/usr/bin/true',
    cwd: '/',
    root: '/',
    mntNs: 'mnt:[1]',
    cgroup: [{ hierarchy: '0', controllers: '', path: `/system.slice/p${pid}.service` }],
    kernelThread: false,
    files,
  };
}
const map = (path: string, ino: number, extra: Partial<FileRef> = {}): FileRef => ({ path, via: 'map', deleted: false, dev: 'fd:01', ino, range: `${ino}-${ino + 1}`, perms: 'r-xp', ...extra });
const fd = (path: string, ino: number, extra: Partial<FileRef> = {}): FileRef => ({ path, via: 'fd', deleted: false, dev: 'fd:01', ino, fd: 3, ...extra });
const at = (ino: number, size = 10): DiskFact => ({ current: { dev: 'fd:01', ino, size } });

function run(images: ProcessImage[], facts: Array<[FileRef, DiskFact]>, changeSet?: ChangeSet) {
  return matchStale(images, { disk: new Map(facts), changeSet }).map((p) => ({ pid: p.pid, files: p.files.map((f) => [f.path, f.kind]) }));
}

describe('matchStale without generations', () => {
  it('flags a deleted library and a replaced one, not a current one', () => {
    const deleted = map('/usr/lib/libssl.so.3', 10, { deleted: true });
    const replaced = map('/usr/lib/libz.so.1', 11);
    const current = map('/usr/lib/libc.so.6', 12);
    const p = proc(5, [deleted, replaced, current]);
    expect(run([p], [[deleted, at(20)], [replaced, at(21)], [current, at(12)]])).toEqual([
      { pid: 5, files: [['/usr/lib/libssl.so.3', 'deleted'], ['/usr/lib/libz.so.1', 'replaced']] },
    ]);
  });

  it('does not flag byte-identical replacements or literal "(deleted)" names', () => {
    const same = map('/usr/lib/libz.so.1', 11, { deleted: true });
    const literal = map('/srv/odd', 12, { deleted: true });
    expect(run([proc(6, [same, literal])], [[same, { ...at(21), sameContent: true }], [literal, { current: null, literal: true }]])).toEqual([]);
  });

  it('never flags memfd, SYSV, /dev, scratch dirs, writable deleted fds or shared writable mappings', () => {
    const refs = [
      map('/memfd:jit', 1, { deleted: true }),
      map('/SYSV00001234', 2, { deleted: true }),
      map('/dev/zero', 3, { deleted: true }),
      map('/tmp/scratch.so', 4, { deleted: true }),
      map('/var/cache/x/db', 5, { deleted: true }),
      map('/dev/shm/ring', 6, { deleted: true }),
      map('/[aio]', 7, { deleted: true }),
      map('/srv/data/shared.bin', 8, { deleted: true, perms: 'rw-s' }),
    ];
    const log = fd('/srv/app/log.txt', 9, { deleted: true });
    expect(run([proc(7, [...refs, log])], [...refs.map((r): [FileRef, DiskFact] => [r, at(99)]), [log, { current: null, writable: true }]])).toEqual([]);
  });

  it('flags a deleted read-only fd but not a cwd', () => {
    const config = fd('/srv/app/config.dat', 9, { deleted: true });
    const cwd: FileRef = { path: '/srv/app/old', via: 'cwd', deleted: true };
    expect(run([proc(8, [config, cwd])], [[config, { current: null, writable: false }]])).toEqual([
      { pid: 8, files: [['/srv/app/config.dat', 'deleted']] },
    ]);
  });

  it('reports a file held both as exe and mapping once', () => {
    const exe: FileRef = { path: '/srv/bin/d', via: 'exe', deleted: true, dev: 'fd:01', ino: 4 };
    const m = map('/srv/bin/d', 4, { deleted: true });
    const stale = matchStale([proc(9, [exe, m])], { disk: new Map([[exe, at(40)], [m, at(40)]]) });
    expect(stale[0]?.files).toEqual([{ path: '/srv/bin/d', kind: 'deleted', via: 'exe', old: { dev: 'fd:01', ino: 4 }, new: { path: '/srv/bin/d', dev: 'fd:01', ino: 40 } }]);
    expect(stale[0]?.owner).toEqual({ kind: 'system-unit', name: 'p9.service', cgroup: '/system.slice/p9.service' });
  });
});

describe('matchStale with a ChangeSet', () => {
  const changeSet: ChangeSet = {
    old: { source: 'dir', path: '/srv/releases/v1' },
    new: { source: 'dir', path: '/srv/releases/v2' },
    changed: [
      { rel: 'lib/libfoo.so', oldPath: '/srv/releases/v1/lib/libfoo.so', newPath: '/srv/releases/v2/lib/libfoo.so' },
      { rel: 'etc/app.conf', oldPath: '/opt/app/etc/app.conf', newPath: '/opt/app/etc/app.conf' },
      { rel: 'tmp-data', oldPath: '/tmp/app/data.bin', newPath: '/tmp/app/data.bin' },
    ],
    removed: [{ rel: 'lib/gone.so', path: '/srv/releases/v1/lib/gone.so' }],
    added: [],
    unchanged: 3,
    leftGeneration: ['/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-libfoo-1.0'],
    storeDir: '/nix/store',
  };

  it('flags changed, removed and left-generation files without asking the disk', () => {
    const a = map('/srv/releases/v1/lib/libfoo.so', 1);
    const b = map('/srv/releases/v1/lib/gone.so', 2);
    const c = map('/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-libfoo-1.0/lib/libfoo.so.1', 3);
    const d = map('/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-libbar-1.0/lib/libbar.so.1', 4);
    const e = map('/srv/releases/v1/lib/same.so', 5);
    expect(run([proc(10, [a, b, c, d, e])], [[e, at(5)], [d, at(4)]], changeSet)).toEqual([
      {
        pid: 10,
        files: [
          ['/srv/releases/v1/lib/libfoo.so', 'changed'],
          ['/srv/releases/v1/lib/gone.so', 'removed'],
          ['/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-libfoo-1.0/lib/libfoo.so.1', 'left-generation'],
        ],
      },
    ]);
  });

  it('an in-place change only counts when the process holds the old inode', () => {
    const oldInode = fd('/opt/app/etc/app.conf', 1, { deleted: true });
    const newInode = fd('/opt/app/etc/app.conf', 2);
    expect(run([proc(11, [oldInode]), proc(12, [newInode])], [[oldInode, at(2)], [newInode, at(2)]], changeSet)).toEqual([
      { pid: 11, files: [['/opt/app/etc/app.conf', 'changed']] },
    ]);
  });

  it('a scratch path the ChangeSet names is flagged', () => {
    const data = map('/tmp/app/data.bin', 1, { deleted: true, perms: 'r--p' });
    expect(run([proc(13, [data])], [[data, at(2)]], changeSet)).toEqual([{ pid: 13, files: [['/tmp/app/data.bin', 'changed']] }]);
  });
});
