import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { startWorkload, type Topology, type Workload, type WorkloadMode } from '../testkit/workload.mjs';

/** Fields of /proc/PID/stat from field 3 on (index 0 = field 3), or undefined if gone. */
function statFields(pid: number): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}
const alive = (p: { pid: number; startTime: number }): boolean => {
  const f = statFields(p.pid);
  return !!f && f[0] !== 'Z' && Number(f[19]) === p.startTime;
};
const ppid = (pid: number): number => Number(statFields(pid)?.[1]);

/** Everything /proc shows a process holding: maps lines, fd targets, exe. */
function procText(pid: number): string {
  const fds = readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return '';
    }
  });
  return [readFileSync(`/proc/${pid}/maps`, 'utf8'), ...fds, readlinkSync(`/proc/${pid}/exe`)].join('\n');
}

// the files each role's daemon holds that generation 2 changes (relative to a generation's tree)
const CHANGED_HELD: Record<string, string[]> = {
  lib: ['lib/libfoo.so.1', 'lib/libz.so.1'],
  exe: ['bin/execd'],
  fd: ['share/config.dat'],
  plugin: ['lib/plugins/libplug.so'],
  mmap: ['share/table.dat'],
  clean: [],
  supervisor: [],
};

const CASES: Array<[WorkloadMode, Topology]> = [
  ['inplace', 'tree'],
  ['nix', 'flat'],
  ['dir', 'tree'],
];

describe.each(CASES)('testkit workload, mode %s, topology %s', (mode, topology) => {
  const root = `/srv/restartd-test-testkit-${mode}-${randomBytes(4).toString('hex')}`;
  let w: Workload | undefined;
  const workload = (): Workload => {
    if (!w) throw new Error('workload did not start');
    return w;
  };

  afterAll(async () => {
    await w?.cleanup();
  });

  it('starts real processes from generation 1', async () => {
    w = await startWorkload({ root, procs: 12, mode, topology, cleanRatio: 0.34 });
    const daemons = w.processes.filter((p) => p.role !== 'supervisor');
    const supervisors = w.processes.filter((p) => p.role === 'supervisor');
    expect(daemons).toHaveLength(12);
    expect(daemons.filter((p) => p.role === 'clean')).toHaveLength(4); // floor(12 * 0.34)
    expect(new Set(daemons.map((p) => p.role))).toEqual(new Set(['lib', 'exe', 'fd', 'plugin', 'mmap', 'clean']));
    for (const p of w.processes) expect(alive(p), `pid ${p.pid} (${p.role}) alive`).toBe(true);
    expect(w.processes.every((p) => !p.stale && p.reasons.length === 0)).toBe(true);
    expect(w.switched).toBe(false);

    const ours = new Set(w.processes.map((p) => p.pid));
    if (topology === 'tree') {
      expect(supervisors).toHaveLength(1);
      const sup = supervisors[0]!;
      expect(statFields(sup.pid)?.[3]).toBe(String(sup.pid)); // field 6: session id = own pid
      for (const d of daemons) expect(ppid(d.pid)).toBe(sup.pid);
    } else {
      expect(supervisors).toHaveLength(0);
      for (const d of daemons) {
        expect(ours.has(ppid(d.pid))).toBe(false);
        expect(ppid(d.pid)).not.toBe(process.pid);
      }
    }
    expect(readFileSync(`${root}/pids.tsv`, 'utf8')).toContain(`${daemons[0]!.pid}\t${daemons[0]!.startTime}\t`);
  });

  it('switches to generation 2 and returns the ground truth, as /proc shows it', async () => {
    const wl = workload();
    await wl.switch();
    expect(wl.switched).toBe(true);
    expect(existsSync(wl.generations.new)).toBe(true);
    expect(existsSync(wl.generations.old)).toBe(true);

    for (const p of wl.processes) {
      const want = CHANGED_HELD[p.role]!;
      expect(p.stale, `${p.role} stale`).toBe(want.length > 0);
      if (mode === 'nix') {
        const expected = p.role === 'lib' ? [...want, 'bin/appd'] : want; // appd's store path changed too
        expect(p.reasons).toHaveLength(expected.length);
        for (const rel of expected) {
          expect(p.reasons.some((r) => r.startsWith(`${root}/store/`) && r.endsWith(`/${rel}`)), rel).toBe(true);
        }
        for (const r of p.reasons) expect(r).toMatch(new RegExp(`^${root}/store/[0-9a-z]{32}-[a-z-]+-[0-9][^/]*/`));
      } else {
        const base = mode === 'inplace' ? `${root}/opt/app` : `${root}/releases/v1`;
        expect(p.reasons).toEqual(want.map((rel) => `${base}/${rel}`).sort());
      }
      if (p.stale) {
        const text = procText(p.pid);
        for (const r of p.reasons) expect(text).toContain(mode === 'inplace' ? `${r} (deleted)` : r);
      }
      if (mode !== 'inplace') expect(procText(p.pid)).not.toContain('(deleted)');
    }

    const truth = JSON.parse(readFileSync(`${root}/ground-truth.json`, 'utf8'));
    expect(truth).toMatchObject({ mode, topology, switched: true, generations: wl.generations });
    expect(truth.processes).toEqual(wl.processes);
  });

  it('lays out generation 2 the way the mode says', () => {
    const wl = workload();
    if (mode === 'inplace') {
      expect(wl.generations.source).toBe('manifest');
      const m1 = JSON.parse(readFileSync(wl.generations.old, 'utf8'));
      const m2 = JSON.parse(readFileSync(wl.generations.new, 'utf8'));
      expect(m1).toMatchObject({ version: 1, root: `${root}/opt/app` });
      const hash = (m: { files: Array<{ path: string; sha256: string; size: number }> }) =>
        new Map(m.files.map((f) => [f.path, f.sha256]));
      const [h1, h2] = [hash(m1), hash(m2)];
      expect([...h1.keys()]).toEqual([...h2.keys()]);
      const changed = [...h1.keys()].filter((k) => h1.get(k) !== h2.get(k)).sort();
      expect(changed).toEqual([...new Set(Object.values(CHANGED_HELD).flat())].sort());
      expect(readdirSync(`${root}/opt/app/lib`).some((f) => f.endsWith('.dpkg-new'))).toBe(false);
    } else if (mode === 'dir') {
      expect(wl.generations).toEqual({ old: `${root}/releases/v1`, new: `${root}/releases/v2`, source: 'dir' });
      const ino = (g: number, rel: string) => statSync(`${root}/releases/v${g}/${rel}`).ino;
      expect(ino(2, 'bin/appd')).toBe(ino(1, 'bin/appd')); // hardlinked
      expect(ino(2, 'lib/libbar.so.1')).toBe(ino(1, 'lib/libbar.so.1'));
      expect(ino(2, 'share/static.dat')).not.toBe(ino(1, 'share/static.dat')); // copied
      expect(readFileSync(`${root}/releases/v2/share/static.dat`)).toEqual(readFileSync(`${root}/releases/v1/share/static.dat`));
      expect(ino(2, 'bin/execd')).not.toBe(ino(1, 'bin/execd'));
      expect(realpathSync(`${root}/current`)).toBe(`${root}/releases/v2`);
    } else {
      expect(wl.generations).toEqual({
        old: `${root}/profiles/system-1-link`,
        new: `${root}/profiles/system-2-link`,
        source: 'nix',
        storeDir: `${root}/store`,
      });
      const sys2 = realpathSync(wl.generations.new);
      expect(realpathSync(`${root}/current`)).toBe(sys2);
      expect(sys2).toMatch(new RegExp(`^${root}/store/[0-9a-z]{32}-system-2$`));
      expect(readdirSync(sys2).sort()).toEqual(['bin', 'lib', 'share']); // no closure list
      for (const p of readdirSync(`${root}/store`)) {
        expect(statSync(`${root}/store/${p}`).mode & 0o222, p).toBe(0);
      }
      for (const p of wl.processes) for (const r of p.reasons) expect(existsSync(r)).toBe(true); // gen 1 stays
    }
  });

  it('cleanup ends exactly its processes and removes the root', async () => {
    const wl = workload();
    const procs = wl.processes.map((p) => ({ ...p }));
    await wl.cleanup();
    for (const p of procs) expect(alive(p), `pid ${p.pid} (${p.role}) gone`).toBe(false);
    expect(existsSync(root)).toBe(false);
    await wl.cleanup(); // idempotent
  });
});

describe('startWorkload options', () => {
  it('refuses roots where restartd ignores deleted files', async () => {
    await expect(startWorkload({ root: '/tmp/restartd-test-x', procs: 1, mode: 'dir' })).rejects.toThrow(/\/tmp/);
    await expect(startWorkload({ root: 'relative', procs: 1, mode: 'dir' })).rejects.toThrow(/absolute/);
  });
});
