import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastRuns } from '../src/journal/last-runs.js';
import { CLI } from './support/cli.js';
import { buildPacmanPackage } from './support/pacman-package.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { cgroup2Root } from './support/systemd/tree.js';
import { hostPidsOfUnit, mainPidOf, systemctl, writeUnit } from './support/systemd/units.js';

// examples/pacman for real: packages built here (a program, a data file, a shared library), installed
// and upgraded with `pacman -U` on a private database, with the example's hooks (its .hook files,
// its scripts, where they are in this checkout). Services in a sandbox systemd run the programs;
// restartd, called by the PostTransaction hook, restarts each service holding old files once.
//
// Everything pacman installs is under ROOT (/srv/restartd-pacman-test-*: not /tmp, /run or /var,
// whose deleted files restartd ignores as scratch); --root / makes the hooks' chroot a no-op. The
// database, cache, log and hooks are ROOT's too. libalpm runs /sbin/ldconfig after every
// transaction; pacman runs in its own mount namespace where that is /bin/true, so the host's
// /etc/ld.so.cache is not rewritten.
const EXAMPLES = fileURLToPath(new URL('../examples/pacman/', import.meta.url));
const DEMO_PKG = 'restartd-test-demo';
const LIB_PKG = 'restartd-test-lib';
const UNITS = ['demo', 'reader', 'libuser', 'both', 'clean'] as const;
type Unit = (typeof UNITS)[number];

let sandbox: SystemdSandbox;
let root: string;
let stateDir: string;
let env: NodeJS.ProcessEnv;
const pkgs: Record<string, string> = {};
const at = (path: string): string => join(root, path);

function run(file: string, args: string[], runEnv: NodeJS.ProcessEnv = process.env): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env: runEnv, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out: stdout + stderr });
    });
  });
}

/** pacman -U FILES on the test's own database, cache, log and hook dir; --root / (see above). */
function pacmanUpgrade(...files: string[]): Promise<{ code: number; out: string }> {
  const pacman = ['pacman', '--config', at('pacman.conf'), '--root', '/', '--dbpath', at('db'), '--cachedir', at('cache'),
    '--logfile', at('pacman.log'), '--hookdir', at('hooks'), '--noconfirm', '--noprogressbar', '-U', ...files];
  return run('unshare', ['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', 'mount --bind /bin/true /sbin/ldconfig && exec "$@"', 'sh', ...pacman], env);
}

async function compileLibrary(version: number): Promise<string> {
  const src = at(`build/libdemo-${version}.c`);
  const out = at(`build/libdemo-${version}.so`);
  writeFileSync(src, `const char *restartd_test_demo_version(void) { return "restartd-test lib v${version}"; }\n`);
  const built = await run('gcc', ['-shared', '-fPIC', '-o', out, src]);
  if (built.code !== 0) throw new Error(built.out);
  return out;
}

async function buildDemo(version: number): Promise<string> {
  // The program: a copy of sleep, its bytes made version-specific (trailing data an ELF loader ignores).
  const program = at(`build/demo-${version}`);
  writeFileSync(program, Buffer.concat([readFileSync('/bin/sleep'), Buffer.from(`\nrestartd-test pacman v${version}\n`)]), { mode: 0o755 });
  return buildPacmanPackage({
    name: DEMO_PKG,
    version: `${version}-1`,
    files: { [at('usr/bin/demo')]: { copyOf: program }, [at('usr/share/demo/data')]: `demo data v${version}\n` },
    outDir: at('pkgs'),
  });
}

const startsOf = (unit: Unit): number => (existsSync(at(`starts-${unit}`)) ? readFileSync(at(`starts-${unit}`), 'utf8').split('\n').filter(Boolean).length : 0);

async function snapshot(): Promise<Record<Unit, { starts: number; mainPid: number }>> {
  const result = {} as Record<Unit, { starts: number; mainPid: number }>;
  for (const unit of UNITS) result[unit] = { starts: startsOf(unit), mainPid: await mainPidOf(sandbox, `${unit}.service`) };
  return result;
}

/** How many times pacman ran a hook, from its log. */
const hookRuns = (hook: string): number => readFileSync(at('pacman.log'), 'utf8').split(`running '${hook}'`).length - 1;

// Type=exec reports a service started once it is exec'ed: the loader's LD_PRELOAD and the shell's
// `3<` redirection may come a moment later.
const POLL = { timeout: 10_000, interval: 50 };

/** The files a unit's processes hold (exe, maps, fds), as the host sees them. */
function heldFiles(unit: Unit): string[] {
  const files = new Set<string>();
  for (const pid of hostPidsOfUnit(sandbox, cgroup2Root(), `${unit}.service`)) {
    files.add(readlinkSync(`/proc/${pid}/exe`));
    for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
      const path = line.split(/\s+/).slice(5).join(' ');
      if (path.startsWith('/')) files.add(path);
    }
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        files.add(readlinkSync(`/proc/${pid}/fd/${fd}`));
      } catch {
        // closed meanwhile
      }
    }
  }
  return [...files].filter((file) => file.startsWith(root)).sort();
}

beforeAll(async () => {
  root = mkdtempSync('/srv/restartd-pacman-test-');
  for (const dir of ['build', 'pkgs', 'db', 'cache', 'hooks', 'bin']) mkdirSync(at(dir));
  stateDir = at('state');

  pkgs.demo1 = await buildDemo(1);
  pkgs.demo2 = await buildDemo(2);
  pkgs.demo3 = await buildDemo(3);
  for (const version of [1, 2]) {
    pkgs[`lib${version}`] = await buildPacmanPackage({
      name: LIB_PKG,
      version: `${version}-1`,
      files: { [at('usr/lib/libdemo.so')]: { copyOf: await compileLibrary(version) } },
      outDir: at('pkgs'),
    });
  }

  // Local packages are unsigned: no keyring, no signature checks. No repositories.
  writeFileSync(at('pacman.conf'), '[options]\nArchitecture = auto\nSigLevel = Never\nLocalFileSigLevel = Never\n');
  // The example hooks, their Exec pointed at the example script where it is in this checkout.
  for (const hook of ['restartd-pre.hook', 'restartd-post.hook']) {
    writeFileSync(at(`hooks/${hook}`), readFileSync(join(EXAMPLES, hook), 'utf8').replaceAll('/usr/local/lib/restartd/', EXAMPLES));
  }
  // `restartd` on the hooks' PATH: the CLI as built in dist/.
  writeFileSync(at('bin/restartd'), `#!/bin/sh\nexec ${process.execPath} ${CLI} "$@"\n`);
  chmodSync(at('bin/restartd'), 0o755);
  writeFileSync(at('config.json'), '{ "version": 1 }\n');

  sandbox = await startSystemd({ label: 'pacman' });
  env = {
    ...process.env,
    PATH: `${at('bin')}:${dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    RESTARTD_STATE_DIR: stateDir,
    RESTARTD_HOOK_ARGS: `--bus ${sandbox.busAddress} --config ${at('config.json')}`,
    // The hooks inherit pacman's environment, not its options: the script's `pacman -Qlq` needs the test database.
    RESTARTD_PACMAN_ARGS: `--dbpath ${at('db')}`,
  };

  // A fresh install is Operation = Install: the example hooks (Upgrade, Remove) do not run.
  const installed = await pacmanUpgrade(pkgs.demo1 as string, pkgs.lib1 as string);
  if (installed.code !== 0) throw new Error(installed.out);

  const demo = at('usr/bin/demo');
  const lib = at('usr/lib/libdemo.so');
  const units: Record<Unit, string[]> = {
    demo: [`ExecStart=${demo} infinity`], // the package's program
    reader: [`ExecStart=/bin/sh -c 'exec /bin/sleep infinity 3<${at('usr/share/demo/data')}'`], // a data file held open
    libuser: [`Environment=LD_PRELOAD=${lib}`, 'ExecStart=/bin/sleep infinity'], // the other package's library
    both: [`Environment=LD_PRELOAD=${lib}`, `ExecStart=${demo} infinity`], // files of both packages
    clean: ['ExecStart=/bin/sleep infinity'], // nothing of either
  };
  for (const unit of UNITS) {
    writeUnit(sandbox, `${unit}.service`, { Service: ['Type=exec', `ExecStartPre=/bin/sh -c 'echo x >> ${at(`starts-${unit}`)}'`, ...units[unit]] });
  }
  await systemctl(sandbox, 'daemon-reload');
  await systemctl(sandbox, 'start', ...UNITS.map((unit) => `${unit}.service`));
}, 120_000);

afterAll(async () => {
  await sandbox?.stop();
  // The database is the test's own: removing ROOT removes the packages and every trace of them.
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

describe('examples/pacman', () => {
  it('installs for real: pacman owns the files, the services run them, no hook ran for a fresh install', async () => {
    const owned = await run('pacman', ['--dbpath', at('db'), '-Qlq', DEMO_PKG, LIB_PKG]);
    expect(owned.code, owned.out).toBe(0);
    expect(owned.out.split('\n').filter(Boolean).sort()).toEqual([at('usr/bin/demo'), at('usr/lib/libdemo.so'), at('usr/share/demo/data')]);
    expect(hookRuns('restartd-pre.hook') + hookRuns('restartd-post.hook')).toBe(0);
    expect(existsSync(join(stateDir, 'pkg'))).toBe(false);
    await expect.poll(() => heldFiles('demo'), POLL).toEqual([at('usr/bin/demo')]);
    await expect.poll(() => heldFiles('reader'), POLL).toEqual([at('usr/share/demo/data')]);
    await expect.poll(() => heldFiles('libuser'), POLL).toEqual([at('usr/lib/libdemo.so')]);
    await expect.poll(() => heldFiles('both'), POLL).toEqual([at('usr/bin/demo'), at('usr/lib/libdemo.so')]);
    await expect.poll(() => heldFiles('clean'), POLL).toEqual([]);
    for (const unit of UNITS) expect(startsOf(unit), unit).toBe(1);
  });

  it('pacman -U upgrades one package: the services holding its old files restart once, the others are untouched', { timeout: 90_000 }, async () => {
    const before = await snapshot();
    const pacman = await pacmanUpgrade(pkgs.demo2 as string);
    expect(pacman.code, pacman.out).toBe(0);
    expect(hookRuns('restartd-pre.hook')).toBe(1);
    expect(hookRuns('restartd-post.hook')).toBe(1);
    // PreTransaction + NeedsTargets: the package names on stdin.
    expect(readFileSync(join(stateDir, 'pkg/packages'), 'utf8')).toBe(`${DEMO_PKG}\n`);
    for (const unit of ['demo', 'reader', 'both']) expect(pacman.out).toMatch(new RegExp(`restarted ${unit}\\.service`));
    expect(pacman.out).not.toMatch(/restarted (libuser|clean)\.service/);

    const after = await snapshot();
    for (const unit of ['demo', 'reader', 'both'] as const) {
      expect(after[unit].starts, unit).toBe(before[unit].starts + 1);
      expect(after[unit].mainPid, unit).not.toBe(before[unit].mainPid);
    }
    for (const unit of ['libuser', 'clean'] as const) expect(after[unit], unit).toEqual(before[unit]);

    const runs = lastRuns(stateDir, 10);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ state: 'finished', failed: [] });
    expect(runs[0]?.done.map((d) => `${d.action} ${d.unit}`).sort()).toEqual(['restart both.service', 'restart demo.service', 'restart reader.service']);
    // The restarted services hold the new files (no "(deleted)").
    await expect.poll(() => heldFiles('demo'), POLL).toEqual([at('usr/bin/demo')]);
    await expect.poll(() => heldFiles('reader'), POLL).toEqual([at('usr/share/demo/data')]);
    await expect.poll(() => heldFiles('libuser'), POLL).toEqual([at('usr/lib/libdemo.so')]);
  });

  it('one transaction upgrading two packages runs the hooks once and restarts each stale service once', { timeout: 90_000 }, async () => {
    const before = await snapshot();
    const pacman = await pacmanUpgrade(pkgs.demo3 as string, pkgs.lib2 as string);
    expect(pacman.code, pacman.out).toBe(0);
    expect(hookRuns('restartd-pre.hook')).toBe(2);
    expect(hookRuns('restartd-post.hook')).toBe(2);
    expect(readFileSync(join(stateDir, 'pkg/packages'), 'utf8')).toBe(`${DEMO_PKG}\n${LIB_PKG}\n`);
    const old = JSON.parse(readFileSync(join(stateDir, 'pkg/old.json'), 'utf8')) as { files: { path: string }[] };
    expect(old.files.map((f) => `/${f.path}`).sort()).toEqual([at('usr/bin/demo'), at('usr/lib/libdemo.so'), at('usr/share/demo/data')]);

    const after = await snapshot();
    for (const unit of ['demo', 'reader', 'libuser', 'both'] as const) {
      expect(after[unit].starts, unit).toBe(before[unit].starts + 1);
      expect(after[unit].mainPid, unit).not.toBe(before[unit].mainPid);
    }
    expect(after.clean).toEqual(before.clean);
    // restartd was called once for the transaction: one switch, one invocation, each unit once.
    expect(pacman.out.match(/\(\d+ invocations? since/g)).toEqual(['(1 invocation since']);
    expect(pacman.out.match(/restarted both\.service/g)).toHaveLength(1);

    const runs = lastRuns(stateDir, 10);
    expect(runs).toHaveLength(2);
    expect(runs[0]).toMatchObject({ state: 'finished', failed: [], attempts: 1 });
    expect(runs[0]?.done.map((d) => `${d.action} ${d.unit}`).sort()).toEqual(['restart both.service', 'restart demo.service', 'restart libuser.service', 'restart reader.service']);
    await expect.poll(() => heldFiles('both'), POLL).toEqual([at('usr/bin/demo'), at('usr/lib/libdemo.so')]);
    // The new generation is what pacman installed: v3 of the program, v2 of the library.
    expect(readFileSync(at('usr/bin/demo')).includes('restartd-test pacman v3')).toBe(true);
    expect(readFileSync(at('usr/lib/libdemo.so')).includes('restartd-test lib v2')).toBe(true);
    expect(statSync(at('usr/bin/demo')).mode & 0o111).not.toBe(0);
  });
});
