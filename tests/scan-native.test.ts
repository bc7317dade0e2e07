import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type * as Detect from '../src/detect.js';
import type * as Native from '../src/scan/native-scan.js';
import type * as Scan from '../src/scan/scan-processes.js';
import type * as MapsFiles from '../src/scan/maps-files.js';
import { startWorkload, type Workload } from '../testkit/workload.mjs';
import { mapsLine, ProcFixture } from './support/proc-fixture.js';

// The addon is built by `npm run build` (scripts/test builds first; gcc is in scripts/install-test-deps).
const native = (await import(new URL('../dist/scan/native-scan.js', import.meta.url).href)) as typeof Native;
const scan = (await import(new URL('../dist/scan/scan-processes.js', import.meta.url).href)) as typeof Scan;
const detect = (await import(new URL('../dist/detect.js', import.meta.url).href)) as typeof Detect;
const mapsFiles = (await import(new URL('../dist/scan/maps-files.js', import.meta.url).href)) as typeof MapsFiles;

/** Both paths over the same PIDs: the native loop must never change what is found. */
async function bothPaths(options: { procRoot?: string; pids?: number[]; maxHeldFiles?: number }) {
  const js = scan.scanHeldFiles({ ...options, native: false });
  const c = scan.scanHeldFiles({ ...options, native: true });
  const jsStale = await detect.detectStale({ ...options, parallel: false, native: false });
  const cStale = await detect.detectStale({ ...options, parallel: false, native: true });
  return { js, c, jsStale, cStale };
}

describe('native scan loop', () => {
  it('is built and loads', () => {
    expect(typeof native.nativeScan()?.readBatch).toBe('function');
  });

  describe('on a real workload', () => {
    let w: Workload;
    beforeAll(async () => {
      w = await startWorkload({ root: `/srv/restartd-test-native-${randomBytes(3).toString('hex')}`, procs: 30, mode: 'inplace' });
      await w.switch();
    });
    afterAll(async () => {
      await w?.cleanup();
    });

    it('reads every process itself: stat, exe, one line per mapped file, the fds', () => {
      const pids = w.processes.map((p) => p.pid);
      const [bytes, meta] = native.nativeScan()!.readBatch('/proc', Int32Array.from(pids), 20_000);
      let at = 0;
      for (const pid of pids) {
        expect(meta[at + native.H.pid]).toBe(pid);
        expect(meta[at + native.H.fail]).toBe(native.FAIL.none);
        expect(meta[at + native.H.mapsCount]).toBeGreaterThan(0);
        const maps = bytes.toString('utf8', meta[at + native.H.mapsOff], meta[at + native.H.mapsOff]! + meta[at + native.H.mapsLen]!);
        expect(maps.split('\n').filter(Boolean)).toHaveLength(meta[at + native.H.mapsCount]!);
        // The TypeScript parser reads the same count from those bytes: otherwise the scan reads the process again itself.
        expect(mapsFiles.mappedFilesOf(bytes, meta[at + native.H.mapsOff]! + meta[at + native.H.mapsLen]!, meta[at + native.H.mapsOff])).toHaveLength(meta[at + native.H.mapsCount]!);
        at += native.HEADER + native.FD_FIELDS * meta[at + native.H.fdCount]!;
      }
      expect(at).toBe(meta.length);
    });

    it('finds exactly what the TypeScript scan finds', async () => {
      const pids = w.processes.map((p) => p.pid);
      const { js, c, jsStale, cStale } = await bothPaths({ pids });
      expect(c.processes.length).toBe(pids.length);
      expect(c).toEqual(js);
      expect(JSON.stringify(c.processes)).toBe(JSON.stringify(js.processes));
      expect(cStale.stale).toEqual(jsStale.stale);
      expect(cStale.stale.map((p) => p.pid)).toEqual(w.processes.filter((p) => p.stale).map((p) => p.pid).sort((a, b) => a - b));
      expect(cStale.scan.processes).toEqual(jsStale.scan.processes);
      // Under the cap the native loop judges the same fds past it as the TypeScript one.
      const capped = await bothPaths({ pids, maxHeldFiles: 3 });
      expect(capped.c).toEqual(capped.js);
      expect(capped.c.processes.some((p) => (p.heldFilesNotExamined ?? 0) > 0)).toBe(true);
    });
  });

  describe('on fixture /proc trees', () => {
    let f: ProcFixture;
    afterEach(() => f.remove());

    it('gives the same images, errors and verdicts for what live processes rarely show', async () => {
      f = new ProcFixture();
      const lib = f.file('/opt/app/lib.so', 'v1');
      const data = f.file('/opt/app/data', 'd');
      const spaced = f.file('/opt/my app/lib one.so', 'x');
      const literal = f.file('/opt/weird (deleted)', 'z');
      // One library in several ranges, the executable one later (perms upgraded), a deleted one,
      // an anonymous line, inode 0, a newline in a name, a literal "(deleted)", an inode that is not digits.
      const maps =
        mapsLine('1000-2000', 'r--p', lib.ino, lib.path) +
        mapsLine('2000-3000', 'r-xp', lib.ino, lib.path) +
        mapsLine('3000-4000', 'rw-p', lib.ino, lib.path) +
        mapsLine('4000-5000', 'rw-p', 0, '') +
        mapsLine('5000-6000', 'r--p', 0, '/opt/zero') +
        mapsLine('6000-7000', 'r-xp', 4242, '/opt/app/old.so (deleted)') +
        mapsLine('7000-8000', 'r-xp', spaced.ino, '/opt/new\\012line.so') +
        mapsLine('8000-9000', 'r--p', literal.ino, '/opt/weird (deleted)') +
        '9000-a000 r--p 00000000 fe:00 12x4 /opt/odd\n' +
        mapsLine('a000-b000', 'r--p', lib.ino, lib.path, 'fe:01');
      f.add({ pid: 10, comm: 'a (b) c', exe: '/opt/app/bin (deleted)', maps, fds: { 0: '/dev/null', 1: 'pipe:[1]', 3: data.host, 10: lib.host, 2: '/nowhere (deleted)', 4: '/proc/1/status' } });
      f.add({ pid: 11, exe: '/opt/app/bin', maps: null }); // exited between stat and maps
      f.add({ pid: 12, exe: '/opt/app/bin', brokenEntries: ['maps'] });
      f.add({ pid: 13, exe: '/opt/app/bin', maps: mapsLine('1000-2000', 'r-xp', lib.ino, lib.path) });
      // An fd entry that is not a directory: its listing fails.
      rmSync(join(f.proc, '13', 'fd'), { recursive: true });
      writeFileSync(join(f.proc, '13', 'fd'), '');
      f.add({ pid: 14, flags: 0x00200000, comm: 'kworker/0:1' });
      f.add({ pid: 15, state: 'Z', exe: '/opt/app/bin' });
      f.add({ pid: 16, maps: '' }); // no exe link: gone
      f.add({ pid: 17, exe: '/opt/app/bin', maps: mapsLine('1000-2000', 'r-xp', lib.ino, lib.path), fds: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [i, data.host])) });
      // Stale (a deleted library), with the owner's status or cgroup unreadable.
      f.add({ pid: 18, exe: '/opt/app/bin', maps: mapsLine('1000-2000', 'r-xp', 4243, '/opt/app/gone.so (deleted)'), brokenEntries: ['cgroup'] });
      f.add({ pid: 19, exe: '/opt/app/bin', maps: mapsLine('1000-2000', 'r-xp', 4244, '/opt/app/gone.so (deleted)'), brokenEntries: ['status'] });
      for (const maxHeldFiles of [20_000, 4]) {
        const { js, c, jsStale, cStale } = await bothPaths({ procRoot: f.proc, maxHeldFiles });
        expect(c).toEqual(js);
        expect(JSON.stringify(c)).toBe(JSON.stringify(js));
        expect(cStale.stale).toEqual(jsStale.stale);
        expect(cStale.scan.unreadable).toEqual(jsStale.scan.unreadable);
      }
      const owners = await detect.detectStale({ procRoot: f.proc, parallel: false });
      expect(owners.scan.unreadable.filter((u) => u.pid >= 18)).toEqual([
        { pid: 18, what: 'cgroup', code: 'EISDIR' },
        { pid: 19, what: 'status', code: 'EISDIR' },
      ]);
      const { c } = await bothPaths({ procRoot: f.proc });
      expect(c.processes.map((p) => p.pid)).toEqual([10, 12, 13, 14, 15, 17, 18, 19]);
      expect(c.vanished).toBe(2);
      expect(c.unreadable).toEqual([
        { pid: 12, what: 'maps', code: 'EISDIR' },
        { pid: 13, what: 'fd', code: 'ENOTDIR' },
      ]);
      const p10 = c.processes.find((p) => p.pid === 10)!;
      expect(p10.files.filter((x) => x.via === 'map').map((x) => [x.path, x.perms, x.deleted])).toEqual([
        [lib.path, 'r-xp', false],
        ['/opt/app/old.so', 'r-xp', true],
        ['/opt/new\nline.so', 'r-xp', false],
        ['/opt/weird', 'r--p', true],
        ['/opt/odd', 'r--p', false],
        [lib.path, 'r--p', false],
      ]);
      expect(p10.files.filter((x) => x.via === 'fd').map((x) => x.fd)).toEqual([10, 2, 3]);
    });
  });
});
