/**
 * restartd on REAL OSTree deployments: a sysroot built with the installed `ostree` (Debian 12:
 * 2022.7) under /srv, two commits deployed with `ostree admin deploy`, so the trees are what OSTree
 * makes them (usr/ hardlinked from the repo's objects, /etc a copy of usr/etc per deployment, the
 * deployment dir immutable). Covers `status --generations` disk accounting (checked against find's
 * per-inode count) and the booted deployment (through a bind mount, as at /), `diff` of two
 * deployments, `plan` with real processes running from the older deployment, the same processes
 * seeing `usr` through a mount that the next deployment's `usr` overmounts (apply-live, simulated),
 * and `apply` through a real systemd. Not skipped when ostree is missing: scripts/install-test-deps
 * installs it.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRestartd } from '../src/index.js';
import { EXIT } from '../src/types/exit-codes.js';
import type { StaleReport } from '../src/report/stale-json.js';
import type { StatusReport } from '../src/report/status-json.js';
import { CLI, runCli } from './support/cli.js';
import { BIG_BYTES, CONF, OstreeSysroot, type Deployment } from './support/ostree-sysroot.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { pollUntil } from './support/systemd/proc-identity.js';
import { cgroup2Root } from './support/systemd/tree.js';
import { hostPidsOfUnit, mainPidOf, systemctl, writeUnit } from './support/systemd/units.js';

let ostree: OstreeSysroot;
let v1: Deployment;
let v2: Deployment;
let emptyProc: string;
const children: ChildProcess[] = [];
/** Files where processes started inside a private mount namespace (not our children) wrote their PIDs: killed in afterAll. */
const strayPidFiles: string[] = [];
const DIST_LIBRARY = new URL('../dist/index.js', import.meta.url).pathname;

const readPids = (file: string): number[] => readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number);

/** Runs a shell script in a private mount namespace; its mounts vanish with its last process. */
function inMountNamespace(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('unshare', ['--mount', '--propagation', 'private', 'sh', '-ec', script, 'sh', ...args], { maxBuffer: 256 * 1024 * 1024, timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

interface Census {
  /** `dev:ino` → size, for every regular file of each deployment (find's view, not restartd's). */
  inodes: Map<string, { size: number; in: Set<string> }>;
  /** deployment → its regular files' paths relative to it, with their `dev:ino`. */
  files: Map<string, Map<string, string>>;
}

/** Regular files of the deployments by inode, listed with find(1): the independent measure. */
function census(deployments: string[]): Census {
  const inodes: Census['inodes'] = new Map();
  const files: Census['files'] = new Map();
  for (const dir of deployments) {
    const mine = new Map<string, string>();
    const out = execFileSync('find', [dir, '-type', 'f', '-printf', '%D:%i %s %P\\n'], { encoding: 'utf8' });
    for (const line of out.split('\n').filter(Boolean)) {
      const [key = '', size = '', ...rel] = line.split(' ');
      mine.set(rel.join(' '), key);
      const entry = inodes.get(key) ?? { size: Number(size), in: new Set<string>() };
      entry.in.add(dir);
      inodes.set(key, entry);
    }
    files.set(dir, mine);
  }
  return { inodes, files };
}

function bytesOf(c: Census, dir: string, keep: (holders: Set<string>) => boolean): number {
  let total = 0;
  for (const { size, in: holders } of c.inodes.values()) if (holders.has(dir) && keep(holders)) total += size;
  return total;
}

function uniqueFiles(c: Census, dir: string): string[] {
  return [...(c.files.get(dir) ?? new Map<string, string>())].filter(([, key]) => c.inodes.get(key)?.in.size === 1).map(([rel]) => rel).sort();
}

const size = (path: string) => statSync(path).size;
const nameOf = (d: Deployment) => d.path.slice(d.path.lastIndexOf('/') + 1);
/** restartd lists deployments by name (CHECKSUM.SERIAL), so their order is the checksums', not their age. */
const byName = (ds: Deployment[]) => [...ds].sort((a, b) => nameOf(a).localeCompare(nameOf(b), 'en', { numeric: true }));

/** Starts a program from a deployment; resolves once it has exec'd (its exe is the program). */
async function start(program: string, args: string[]): Promise<number> {
  const child = spawn(program, args, { stdio: 'ignore' });
  children.push(child);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start ${program}`);
  const ready = await pollUntil(() => {
    try {
      return readlinkSync(`/proc/${pid}/exe`) === program;
    } catch {
      return false;
    }
  }, 5000);
  if (!ready) throw new Error(`${program} did not start`);
  return pid;
}

beforeAll(async () => {
  ostree = new OstreeSysroot();
  await ostree.init();
  v1 = await ostree.deploy(1);
  v2 = await ostree.deploy(2);
  emptyProc = join(ostree.root, 'empty-proc');
  mkdirSync(emptyProc);
}, 25_000);

async function stopChildren(): Promise<void> {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
  children.length = 0;
}

function stopStrays(): void {
  for (const pid of strayPidFiles.flatMap((f) => (existsSync(f) ? readPids(f) : []))) {
    try {
      // Only a process still running a program of this sysroot (not a reused PID).
      if (readlinkSync(`/proc/${pid}/exe`).startsWith(ostree.root)) process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

afterAll(async () => {
  await stopChildren();
  stopStrays();
  await ostree?.remove();
});

describe('the sysroot real ostree built', () => {
  it('has both deployments; usr/ files of equal bytes are one repo object, /etc is a copy per deployment', async () => {
    const status = await ostree.status();
    expect(status).toContain(v1.commit);
    expect(status).toContain(v2.commit);
    expect(v1.commit).not.toBe(v2.commit);
    const same = (rel: string) => statSync(join(v1.path, rel)).ino === statSync(join(v2.path, rel)).ino;
    expect(same('usr/share/demo/big.dat')).toBe(true);
    // Equal bytes inside one commit are one object too: one inode under two names.
    expect(statSync(join(v1.path, 'usr/share/demo/big-copy.dat')).ino).toBe(statSync(join(v1.path, 'usr/share/demo/big.dat')).ino);
    expect(same('usr/bin/holder')).toBe(true);
    expect(same('usr/etc/demo.conf')).toBe(true);
    expect(same('usr/bin/app')).toBe(false);
    expect(same('usr/lib/libdemo.so.1')).toBe(false);
    expect(same('etc/demo.conf')).toBe(false);
    expect(lstatSync(join(v1.path, 'bin')).isSymbolicLink()).toBe(true);
  });
});

describe('restartd status --generations on real deployments', () => {
  it('CLI: lists both deployments with bytes and unique bytes counted once per inode; none is booted here, so none is current', async () => {
    const run = await runCli(['status', '--json', '--generations', ostree.deployDir, '--proc-root', emptyProc]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as StatusReport;
    const c = census([v1.path, v2.path]);
    // Unique: the inodes one deployment alone holds. By construction (and by find's count) those
    // are the changed program and library, and each deployment's own copy of /etc.
    expect(uniqueFiles(c, v1.path)).toEqual(['etc/demo.conf', 'usr/bin/app', 'usr/lib/libdemo.so.1']);
    expect(uniqueFiles(c, v2.path)).toEqual(['etc/demo.conf', 'usr/bin/app', 'usr/lib/libdemo.so.1']);
    const unique1 = size(join(v1.path, 'usr/bin/app')) + size(join(v1.path, 'usr/lib/libdemo.so.1')) + CONF.length;
    const unique2 = size(join(v2.path, 'usr/bin/app')) + size(join(v2.path, 'usr/lib/libdemo.so.1')) + CONF.length;
    expect(bytesOf(c, v1.path, (h) => h.size === 1)).toBe(unique1);
    expect(bytesOf(c, v2.path, (h) => h.size === 1)).toBe(unique2);
    // The root is not a deployment: nothing booted, nothing current, so nothing shared with it.
    expect(report.installed).toEqual([
      {
        kind: 'deployments',
        path: ostree.deployDir,
        generations: byName([v1, v2]).map((d) => ({
          name: nameOf(d),
          path: d.path,
          current: false,
          booted: false,
          bytes: bytesOf(c, d.path, () => true),
          uniqueBytes: d === v1 ? unique1 : unique2,
          sharedWithCurrentBytes: 0,
        })),
      },
    ]);
    // Once per inode: the two names of the big file count once.
    const perName = [...(c.files.get(v1.path)?.keys() ?? [])].reduce((sum, rel) => sum + size(join(v1.path, rel)), 0);
    expect(report.installed?.[0]?.generations.find((g) => g.path === v1.path)?.bytes).toBe(perName - BIG_BYTES);
  });

  it('library status with the booted root at v1: v1 is current and booted, v2 shares all but its unique files with it', async () => {
    const report = await createRestartd({ procRoot: emptyProc }).status({ modulesDirs: [], generations: [ostree.deployDir], bootedRoot: v1.path });
    expect(report.reboot.tier).toBe('none');
    const [source] = report.installed ?? [];
    const c = census([v1.path, v2.path]);
    const unique2 = bytesOf(c, v2.path, (h) => h.size === 1);
    const bytes1 = bytesOf(c, v1.path, () => true);
    const bytes2 = bytesOf(c, v2.path, () => true);
    const shared2 = bytesOf(c, v2.path, (h) => h.has(v1.path));
    const expected = {
      [v1.path]: { name: nameOf(v1), path: v1.path, current: true, booted: true, bytes: bytes1, uniqueBytes: bytesOf(c, v1.path, (h) => h.size === 1), sharedWithCurrentBytes: bytes1 },
      [v2.path]: { name: nameOf(v2), path: v2.path, current: false, booted: false, bytes: bytes2, uniqueBytes: unique2, sharedWithCurrentBytes: shared2 },
    };
    expect(source?.generations).toEqual(byName([v1, v2]).map((d) => expected[d.path]));
    // Shared with current, v2: everything but its own app, lib and /etc copy.
    expect(shared2).toBe(bytes2 - unique2);
    // Removing v2 frees exactly its unique bytes.
    expect(source?.reclaimableBytes).toBe(unique2);
  });

  it('CLI --booted-root names the booted deployment the same way', async () => {
    const run = await runCli(['status', '--json', '--proc-root', emptyProc, '--modules-dir', emptyProc, '--generations', ostree.deployDir, '--booted-root', v2.path]);
    const [source] = (JSON.parse(run.stdout) as StatusReport).installed ?? [];
    expect(source?.generations.map((g) => [g.path, g.current, g.booted])).toEqual(
      expect.arrayContaining([
        [v1.path, false, false],
        [v2.path, true, true],
      ]),
    );
  });
});

describe('the booted deployment, found through a mount', () => {
  it('a bind mount of v2 (as ostree-prepare-root mounts the deployment at /) has its device and inode: v2 is booted and current', async () => {
    const mountPoint = join(ostree.root, 'booted-root');
    mkdirSync(mountPoint);
    // In a private mount namespace: mount v2, then the built library's status with that mount as the root.
    const program = `const { createRestartd } = await import(process.argv[1]);
      const report = await createRestartd({ procRoot: process.argv[2] }).status({ modulesDirs: [], generations: [process.argv[3]], bootedRoot: process.argv[4] });
      process.stdout.write(JSON.stringify(report));`;
    const run = await inMountNamespace('mount --bind "$1" "$2"; shift 2; exec "$@"', [
      v2.path, mountPoint, process.execPath, '--input-type=module', '-e', program, DIST_LIBRARY, emptyProc, ostree.deployDir, mountPoint,
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const [source] = (JSON.parse(run.stdout) as StatusReport).installed ?? [];
    expect(source?.generations.map((g) => [g.path, g.current, g.booted]).sort()).toEqual([[v1.path, false, false], [v2.path, true, true]].sort());
    const c = census([v1.path, v2.path]);
    expect(source?.reclaimableBytes).toBe(bytesOf(c, v1.path, (h) => h.size === 1));
    // Outside the namespace the mount point is an empty dir again: nothing leaked.
    expect(statSync(mountPoint).ino).not.toBe(statSync(v2.path).ino);
  });
});

describe('restartd diff of two real deployments', () => {
  it('names exactly the changed files; hardlinked files and the byte-identical /etc copies are unchanged', async () => {
    const run = await runCli(['diff', v1.path, v2.path, '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const diff = JSON.parse(run.stdout) as {
      changed: Array<{ rel: string; oldPath: string; newPath: string }>;
      removed: unknown[];
      added: unknown[];
      counts: { changed: number; removed: number; added: number; unchanged: number };
    };
    expect([...diff.changed].sort((a, b) => a.rel.localeCompare(b.rel))).toEqual(
      ['usr/bin/app', 'usr/lib/libdemo.so.1'].map((rel) => ({ rel, oldPath: join(v1.path, rel), newPath: join(v2.path, rel) })),
    );
    expect(diff.removed).toEqual([]);
    expect(diff.added).toEqual([]);
    // Every other regular file and symlink of v1 is unchanged.
    const entries = execFileSync('find', [v1.path, '(', '-type', 'f', '-o', '-type', 'l', ')', '-printf', '%P\\n'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(entries).toContain('etc/demo.conf');
    expect(entries).toContain('bin');
    expect(diff.counts).toEqual({ changed: 2, removed: 0, added: 0, unchanged: entries.length - 2 });
  });
});

describe('restartd plan with processes running from the old deployment', () => {
  it('reports exactly the processes holding changed files, with changed evidence; the unchanged-file holder is not reported', async () => {
    const app = await start(join(v1.path, 'usr/bin/app'), ['infinity']);
    const libuser = await start(join(v1.path, 'usr/bin/libuser'), []);
    const holder = await start(join(v1.path, 'usr/bin/holder'), [join(v1.path, 'usr/share/demo/big.dat'), join(v1.path, 'etc/demo.conf'), join(v1.path, 'usr/etc/demo.conf')]);
    // Each holds what it should, seen by the kernel.
    const maps = (pid: number) => readFileSync(`/proc/${pid}/maps`, 'utf8');
    // The dynamic linker maps the library just after exec: on a loaded machine, a moment later.
    await expect.poll(() => maps(libuser), { timeout: 5000 }).toContain(join(v1.path, 'usr/lib/libdemo.so.1'));
    await expect.poll(() => maps(holder), { timeout: 5000 }).toContain(join(v1.path, 'usr/etc/demo.conf'));
    expect(maps(holder)).toContain(join(v1.path, 'usr/share/demo/big.dat'));

    const run = await runCli(['plan', '--old', v1.path, '--new', v2.path, '--json', '--bus', `unix:path=${join(ostree.root, 'no-bus')}`]);
    const report = JSON.parse(run.stdout) as StaleReport;
    expect(run.code).toBe(1);
    expect(report.generations?.counts).toMatchObject({ changed: 2, removed: 0, added: 0 });
    // The whole machine is scanned: keep the processes of this sysroot.
    const ours = report.stale.filter((p) => p.files.some((f) => f.path.startsWith(ostree.root)) || (p.exe ?? '').startsWith(ostree.root));
    const evidence = ours
      .map((p) => ({ pid: p.pid, files: p.files.map((f) => ({ path: f.path, kind: f.kind, newPath: f.new?.path })).sort((a, b) => a.path.localeCompare(b.path)) }))
      .sort((a, b) => a.pid - b.pid);
    expect(evidence).toEqual(
      [
        { pid: app, files: [{ path: join(v1.path, 'usr/bin/app'), kind: 'changed', newPath: join(v2.path, 'usr/bin/app') }] },
        { pid: libuser, files: [{ path: join(v1.path, 'usr/lib/libdemo.so.1'), kind: 'changed', newPath: join(v2.path, 'usr/lib/libdemo.so.1') }] },
      ].sort((a, b) => a.pid - b.pid),
    );
    expect(report.stale.map((p) => p.pid)).not.toContain(holder);
    expect(report.scanned.processes).toBeGreaterThanOrEqual(3);
    await stopChildren();
  });
});

describe("a deployment's usr mounted and then overmounted by the next one (apply-live, simulated with bind mounts)", () => {
  it('the processes see MOUNT/bin/app, not the deployment paths: no `changed` pairing, but `replaced` evidence for exactly the changed files', async () => {
    const mountPoint = join(ostree.root, 'usr-mount');
    const pidFile = join(ostree.root, 'usr-mount.pids');
    mkdirSync(mountPoint);
    strayPidFiles.push(pidFile);
    // v1's usr at MOUNT, three processes from it, then v2's usr mounted over it; restartd plan runs in the same namespace.
    const script = `mount --bind "$1/usr" "$3"
      # (the processes must not hold the pipes execFile reads, or it waits for them)
      "$3/bin/app" infinity </dev/null >/dev/null 2>&1 & echo $! > "$4"
      "$3/bin/libuser" </dev/null >/dev/null 2>&1 & echo $! >> "$4"
      "$3/bin/holder" "$3/share/demo/big.dat" </dev/null >/dev/null 2>&1 & h=$!; echo $h >> "$4"
      n=0; until grep -q big.dat /proc/$h/maps 2>/dev/null; do n=$((n+1)); [ $n -lt 200 ] || exit 9; sleep 0.02; done
      mount --bind "$2/usr" "$3"
      exec "$5" "$6" plan --old "$1" --new "$2" --json --bus "unix:path=$3/no-bus"`;
    const run = await inMountNamespace(script, [v1.path, v2.path, mountPoint, pidFile, process.execPath, CLI]);
    const [app, libuser, holder] = readPids(pidFile);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as StaleReport;
    const ours = report.stale.filter((p) => p.files.some((f) => f.path.startsWith(ostree.root)) || (p.exe ?? '').startsWith(ostree.root));
    expect(ours.map((p) => ({ pid: p.pid, files: p.files.map((f) => ({ path: f.path, kind: f.kind })) })).sort((a, b) => a.pid - b.pid)).toEqual(
      [
        { pid: app, files: [{ path: join(mountPoint, 'bin/app'), kind: 'replaced' }] },
        { pid: libuser, files: [{ path: join(mountPoint, 'lib/libdemo.so.1'), kind: 'replaced' }] },
      ].sort((a, b) => (a.pid ?? 0) - (b.pid ?? 0)),
    );
    expect(report.stale.map((p) => p.pid)).not.toContain(holder);
    stopStrays();
    // Gone (a zombie waiting for its reaper has no exe any more).
    const running = (pid: number | undefined) => {
      try {
        return readlinkSync(`/proc/${pid}/exe`).startsWith(ostree.root);
      } catch {
        return false;
      }
    };
    expect(await pollUntil(() => ![app, libuser, holder].some(running), 5000)).toBe(true);
  });
});

describe('restartd apply on a real systemd, units started from the booted deployment', () => {
  let sandbox: SystemdSandbox | undefined;
  beforeAll(async () => {
    sandbox = await startSystemd({ label: 'ostree' });
  }, 30_000);
  afterAll(async () => {
    await sandbox?.stop();
  });

  it('restarts the unit whose program changed, into the new deployment; the unit holding only unchanged files keeps its process', async () => {
    if (!sandbox) throw new Error('no sandbox');
    const sb = sandbox;
    // The units name programs through a link to the booted deployment (on a booted OSTree system that is /).
    const booted = join(ostree.root, 'booted');
    symlinkSync(v1.path, booted);
    writeUnit(sb, 'ostree-app.service', { Service: ['Type=exec', `ExecStart=${booted}/usr/bin/app infinity`] });
    writeUnit(sb, 'ostree-reader.service', { Service: ['Type=exec', `ExecStart=${booted}/usr/bin/holder ${booted}/usr/share/demo/big.dat`] });
    await systemctl(sb, 'daemon-reload');
    await systemctl(sb, 'start', 'ostree-app.service', 'ostree-reader.service');
    const cgroups = cgroup2Root();
    const hostExe = (unit: string) => hostPidsOfUnit(sb, cgroups, unit).map((pid) => readlinkSync(`/proc/${pid}/exe`));
    expect(await pollUntil(() => hostExe('ostree-app.service')[0] === join(v1.path, 'usr/bin/app'), 5000)).toBe(true);
    expect(await pollUntil(() => {
      const [reader] = hostPidsOfUnit(sb, cgroups, 'ostree-reader.service');
      return reader !== undefined && readFileSync(`/proc/${reader}/maps`, 'utf8').includes(join(v1.path, 'usr/share/demo/big.dat'));
    }, 5000)).toBe(true);
    const before = { app: await mainPidOf(sb, 'ostree-app.service'), reader: await mainPidOf(sb, 'ostree-reader.service') };

    // The switch: the link now names v2.
    symlinkSync(v2.path, `${booted}.next`);
    renameSync(`${booted}.next`, booted);
    const config = join(ostree.root, 'config.json');
    writeFileSync(config, '{ "version": 1 }\n');
    const result = await createRestartd({ busAddress: sb.busAddress, config, stateDir: join(ostree.root, 'state') }).apply({ old: v1.path, new: v2.path });
    if (result.kind !== 'done') throw new Error(`apply resolved to ${result.kind}`);
    const ours = result.report.outcomes.filter((o) => o.unit.startsWith('ostree-'));
    expect(ours).toEqual([expect.objectContaining({ unit: 'ostree-app.service', action: 'restart', ok: true, jobResult: 'done' })]);
    expect(ours[0]?.stillStale).toBeUndefined();
    expect(result.exitCode).toBe(EXIT.OK);
    const after = { app: await mainPidOf(sb, 'ostree-app.service'), reader: await mainPidOf(sb, 'ostree-reader.service') };
    expect(after.app).not.toBe(before.app);
    expect(after.reader).toBe(before.reader);
    expect(hostExe('ostree-app.service')).toEqual([join(v2.path, 'usr/bin/app')]);
  });
});
