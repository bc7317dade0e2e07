/**
 * A real systemd for integration tests: the installed systemd booted as PID 1 of its own pid, mount,
 * uts, ipc and cgroup namespaces, with a dbus-daemon system bus whose socket the host can reach. The
 * host's services, sysctls, mounts and /dev are untouched; the filesystem (so /srv) is shared.
 *
 * Pitfalls the tests must mind:
 * - PIDs on the bus (MainPID, GetUnitByPID) are the sandbox's; host PIDs translate through the NSpid
 *   line of /proc/PID/status.
 * - Read from the host, a unit's cgroup is `<cgroupPrefix>/system.slice/foo.service`.
 * - The unit search path is an allow-list: unit files go to `unitDir`, then daemon-reload.
 * - One sandbox per test file, stopped in afterAll; the state directory path is part of a unix socket
 *   path, so it stays short. A sandbox whose test process died is stopped by the next start.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cgroup2Root, MARKER, prepareTree, systemdBinary } from './systemd/tree.js';
import { firstChildOf, formatIdentity, identityOf, isAlive, parseIdentity, pollUntil, sleep, type ProcIdentity } from './systemd/proc-identity.js';

const BOOT_SCRIPT = fileURLToPath(new URL('./systemd/boot.sh', import.meta.url));
// systemd's poweroff request (glibc's SIGRTMIN is 34).
const SIGRTMIN_PLUS_4 = 38;
const MAX_DIR_LENGTH = 60;
// Where the sandbox's cgroup is (it may be nested in another sandbox's), for whoever stops it.
const CGROUP_FILE = 'cgroup';

export interface SandboxOptions {
  /** State directory (short: it is part of the bus socket path). Default: sandboxDir(label). */
  dir?: string;
  label?: string;
  bootTimeoutMs?: number;
  stopTimeoutMs?: number;
  /**
   * The cgroup2 path (from the hierarchy's root) to boot under, default the root: another sandbox's
   * `cgroupPrefix` nests this one in its tree, as a container's systemd sits under the host's.
   */
  cgroupParent?: string;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface SystemdSandbox {
  dir: string;
  /** `unix:path=DIR/run/dbus/system_bus_socket`: pass to `--bus` or DBUS_SYSTEM_BUS_ADDRESS. */
  busAddress: string;
  /** Host PID of the sandbox's systemd. */
  hostPid: number;
  /** Host path of the sandbox's /run/systemd/system: write unit files here, then daemon-reload. */
  unitDir: string;
  /** The cgroup2 path of the sandbox's root, as the host reads it in /proc/PID/cgroup ("/rdsd-..."). */
  cgroupPrefix: string;
  /** Runs a command inside the sandbox's namespaces (systemctl, journalctl, ...). */
  exec(cmd: string[]): Promise<ExecResult>;
  /** Powers the sandbox off and removes its cgroup and state directory. Idempotent. */
  stop(): Promise<void>;
}

/** The default state directory of a test file's sandbox: one per label and test process. */
export function sandboxDir(label: string): string {
  return `/run/rdsd-${label}-${process.pid}`;
}

function run(file: string, args: string[], timeoutMs = 10_000): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function readIdentity(path: string): ProcIdentity | undefined {
  try {
    return parseIdentity(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

async function systemState(busAddress: string): Promise<string | undefined> {
  const r = await run('busctl', [`--address=${busAddress}`, '--timeout=2', 'get-property', 'org.freedesktop.systemd1',
    '/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager', 'SystemState'], 3000);
  return /^s "(.*)"$/m.exec(r.stdout)?.[1];
}

/** Boots a sandbox and resolves once its manager answers on the bus (SystemState running or degraded). */
export async function startSystemd(options: SandboxOptions = {}): Promise<SystemdSandbox> {
  const dir = (options.dir ?? sandboxDir(options.label ?? 'test')).replace(/\/+$/, '');
  if (!dir.startsWith('/') || dir.length > MAX_DIR_LENGTH) {
    throw new Error(`sandbox dir must be absolute and at most ${MAX_DIR_LENGTH} chars (a unix socket path): ${dir}`);
  }
  if (process.getuid?.() !== 0) throw new Error('the systemd sandbox needs root');
  const systemd = systemdBinary();
  const cgroupPath = join('/', options.cgroupParent ?? '', basename(dir));
  const cgroupDir = join(cgroup2Root(), cgroupPath);
  await stopOrphans(dirname(dir));
  if (existsSync(dir)) {
    if (!existsSync(join(dir, MARKER))) throw new Error(`${dir} exists and is not a sandbox state directory`);
    await stopSandboxDir(dir, 2000);
  }
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  // Owner before marker: another test process sweeping orphans only looks at marked directories.
  writeFileSync(join(dir, 'owner'), formatIdentity(identityOf(process.pid) ?? { pid: process.pid, startTime: 0 }));
  writeFileSync(join(dir, CGROUP_FILE), cgroupPath);
  writeFileSync(join(dir, MARKER), '');
  prepareTree(dir);
  mkdirSync(cgroupDir, { recursive: true });

  const busAddress = `unix:path=${dir}/run/dbus/system_bus_socket`;
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  const stop = () => stopSandboxDir(dir, stopTimeoutMs);
  try {
    const hostPid = await boot(dir, systemd, cgroupDir, busAddress, options.bootTimeoutMs ?? 30_000);
    return {
      dir,
      busAddress,
      hostPid,
      unitDir: join(dir, 'run', 'systemd', 'system'),
      cgroupPrefix: cgroupPath,
      exec: (cmd) =>
        run('nsenter', ['--target', String(hostPid), '--pid', '--mount', '--uts', '--ipc', '--cgroup', '--',
          'env', '-u', 'DBUS_SYSTEM_BUS_ADDRESS', 'SYSTEMD_PAGER=', 'SYSTEMD_COLORS=0', ...cmd], 30_000),
      stop,
    };
  } catch (error) {
    const tail = await bootDiagnostics(dir);
    await stop();
    throw new Error(`systemd sandbox did not boot: ${error instanceof Error ? error.message : String(error)}\n${tail}`);
  }
}

async function boot(dir: string, systemd: string, cgroupDir: string, busAddress: string, timeoutMs: number): Promise<number> {
  const log = openSync(join(dir, 'console.log'), 'a');
  const unshare = spawn(
    'unshare',
    ['--fork', '--pid', '--mount', '--mount-proc', '--uts', '--ipc', '--propagation', 'private', '--',
      'bash', BOOT_SCRIPT, 'pid1', dir, join(cgroupDir, 'cgroup.procs'), systemd],
    // The sandbox holds none of the caller's pipes: a test runner reading our output still sees EOF.
    { detached: true, stdio: ['ignore', log, log] },
  );
  closeSync(log);
  unshare.unref();
  const exited = new Promise<string>((resolve) => unshare.once('exit', (code, signal) => resolve(`unshare exited (${signal ?? code})`)));
  if (unshare.pid === undefined) throw new Error('could not spawn unshare');
  writeFileSync(join(dir, 'unshare.pid'), formatIdentity(identityOf(unshare.pid) ?? { pid: unshare.pid, startTime: 0 }));

  let pid1: ProcIdentity | undefined;
  let state: string | undefined;
  let failure: string | undefined;
  void exited.then((why) => (failure = why));
  const booted = await pollUntil(async () => {
    if (failure !== undefined) return true;
    if (pid1 === undefined) {
      const child = firstChildOf(unshare.pid ?? 0);
      pid1 = child === undefined ? undefined : identityOf(child);
      if (pid1 === undefined) return false;
      writeFileSync(join(dir, 'pid'), formatIdentity(pid1));
    }
    state = await systemState(busAddress);
    return state === 'running' || state === 'degraded';
  }, timeoutMs, 25);
  if (failure !== undefined) throw new Error(failure);
  if (!booted || pid1 === undefined) throw new Error(`timed out after ${timeoutMs} ms (SystemState: ${state ?? 'no answer'})`);
  return pid1.pid;
}

async function bootDiagnostics(dir: string): Promise<string> {
  let text = '';
  try {
    text += readFileSync(join(dir, 'console.log'), 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    // no console log
  }
  const journal = await run('journalctl', ['-D', join(dir, 'run', 'log', 'journal'), '-n', '30', '--no-pager']);
  return `${text}\n${journal.stdout}`;
}

/** Stops sandboxes under PARENT whose test process is gone (a run that crashed before afterAll). */
async function stopOrphans(parent: string): Promise<void> {
  let names: string[];
  try {
    names = readdirSync(parent).filter((name) => name.startsWith('rdsd-'));
  } catch {
    return;
  }
  for (const name of names) {
    const dir = join(parent, name);
    if (!existsSync(join(dir, MARKER))) continue;
    const owner = readIdentity(join(dir, 'owner'));
    if (owner !== undefined && !isAlive(owner)) await stopSandboxDir(dir, 2000);
  }
}

/**
 * Poweroff (SIGRTMIN+4), SIGKILL after `timeoutMs` (which ends the whole PID namespace), then removes
 * the cgroup and the state directory. Acts only on the processes the state directory recorded.
 */
async function stopSandboxDir(dir: string, timeoutMs: number): Promise<void> {
  const pid1 = readIdentity(join(dir, 'pid'));
  const unshare = readIdentity(join(dir, 'unshare.pid'));
  if (isAlive(pid1)) {
    process.kill(pid1.pid, SIGRTMIN_PLUS_4);
    if (!(await pollUntil(() => !isAlive(pid1), timeoutMs, 20))) {
      process.kill(pid1.pid, 'SIGKILL');
      await pollUntil(() => !isAlive(pid1), 5000, 20);
    }
  } else if (isAlive(unshare)) {
    // Boot failed before PID 1 was recorded: unshare's child is PID 1, and ending unshare (--fork) ends it.
    process.kill(unshare.pid, 'SIGKILL');
  }
  if (isAlive(unshare)) await pollUntil(() => !isAlive(unshare), 5000, 20);
  let cgroupPath = `/${basename(dir)}`;
  try {
    cgroupPath = readFileSync(join(dir, CGROUP_FILE), 'utf8');
  } catch {
    // a sandbox from before the file existed: at the root
  }
  await removeCgroup(join(cgroup2Root(), cgroupPath));
  if (existsSync(join(dir, MARKER))) rmSync(dir, { recursive: true, force: true });
}

async function removeCgroup(root: string): Promise<void> {
  if (!existsSync(root)) return;
  const removeTree = (path: string): void => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      if (entry.isDirectory()) removeTree(join(path, entry.name));
    }
    try {
      rmdirSync(path);
    } catch {
      // busy: processes still exiting
    }
  };
  for (let attempt = 0; attempt < 100 && existsSync(root); attempt++) {
    removeTree(root);
    if (!existsSync(root)) return;
    if (attempt === 50) killCgroupMembers(root);
    await sleep(50);
  }
  throw new Error(`could not remove cgroup ${root}`);
}

/** Everything still in the sandbox's cgroup was started by the sandbox: the cgroup is its alone. */
function killCgroupMembers(path: string): void {
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.isDirectory()) killCgroupMembers(join(path, entry.name));
  }
  for (const pid of readFileSync(join(path, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
