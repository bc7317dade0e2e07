import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, type CliRun } from './cli.js';

/**
 * A real Nix (Debian's nix-bin, run as root without a daemon) whose /nix lives in a scratch dir,
 * never on the host.
 *
 * Why not `--store /srv/x` (a chroot store)? Its paths are logically /nix/store/… but lie under
 * /srv/x/nix/store/…: Nix 2.8 builds for it only in a chroot holding store paths alone (no /bin/sh,
 * no gcc: "executing '/bin/sh': No such file or directory"), a program it holds has its RPATH (and
 * every other reference) in /nix/store so it can't run from /srv/x, and restartd, given
 * `--store-dir /srv/x/nix/store`, would find no `/srv/x/nix/store/<hash>` reference in any file.
 * Instead: a private mount namespace whose root is a tmpfs mirroring the host's top-level dirs
 * (bind mounts), plus `<scratch>/nix` bound at /nix, entered with chroot. Inside, /nix/store is a
 * real store at its real path: builds, profiles, running processes and restartd (run inside too, so
 * /proc/PID/maps reads /nix/store/…) all see the same thing. The host's / gets no /nix: the
 * namespace's mounts are private and vanish with its last process.
 *
 * `HOME`, `XDG_CACHE_HOME` and `TMPDIR` point into the scratch dir (nix-env writes ~/.nix-defexpr and
 * ~/.nix-profile, nix-build a cache; the host's /root is bound into the root, so it must not).
 */
export interface NixRoot {
  /** The scratch dir on the host: `<base>/nix` is the root's /nix. */
  base: string;
  /** The root's $HOME (same path inside and outside). */
  home: string;
  /** The environment commands get inside the root. */
  env: NodeJS.ProcessEnv;
  /** Runs a command inside the root and collects its output (no exception on a non-zero exit). */
  run(command: string, args: string[], options?: { env?: NodeJS.ProcessEnv }): Promise<CliRun>;
  /** Runs a command inside the root, throwing with its stderr unless it exits 0; returns stdout. */
  check(command: string, args: string[]): Promise<string>;
  /** Starts a long-running program inside the root (nsenter execs it: the child's pid is the program's). */
  start(command: string, args: string[]): ChildProcess;
  /** `restartd ARGS` (the built CLI) inside the root. */
  restartd(args: string[], options?: { env?: NodeJS.ProcessEnv }): Promise<CliRun>;
  /** Where a `/nix/…` path of the root is on the host (`<base>/nix/…`). */
  hostPath(path: string): string;
  /** Stops what `start` started and the root itself, then removes the scratch dir. */
  close(): Promise<void>;
}

// Absolute: a command may run with a PATH of its own (without nix-store, say).
const NSENTER = '/usr/bin/nsenter';
const UNSHARE = '/usr/bin/unshare';

const NIX_CONFIG = [
  'build-users-group =', // no nixbld group: builds run as root
  'sandbox = false', // builders use the host's /bin/sh and gcc
  'substituters =', // never ask cache.nixos.org
  'auto-optimise-store = true', // identical files hardlinked across store paths, as on real machines
].join('\n');

// Builds `<base>/root`, enters it with chroot, says "ready" and waits for stdin to close.
const ENTER = `set -eu
base=$1
root=$base/root
mount -t tmpfs -o mode=755 restartd-nix-root "$root"
for e in /* /.[!.]*; do
  [ -e "$e" ] || [ -L "$e" ] || continue
  name=\${e#/}
  case $name in proc|sys|dev|nix) continue ;; esac
  if [ -L "$e" ]; then ln -s "$(readlink "$e")" "$root/$name"
  elif [ -d "$e" ]; then mkdir "$root/$name"; mount --rbind "$e" "$root/$name"
  else : > "$root/$name"; mount --bind "$e" "$root/$name"; fi
done
for d in proc sys dev; do mkdir "$root/$d"; mount --rbind "/$d" "$root/$d"; done
mkdir "$root/nix"
mount --bind "$base/nix" "$root/nix"
echo ready
exec chroot "$root" /bin/sh -c 'read _ || true'
`;

function collect(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(file, args, { env, maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

// Mounts of this (the host's) namespace under `dir`: there must be none before anything is removed.
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point === dir || point.startsWith(`${dir}/`));
}

/** Creates the root (under /srv, like the other scratch roots) and waits until it can be entered. */
export async function createNixRoot(label: string): Promise<NixRoot> {
  const base = `/srv/restartd-nix-${label}-${randomBytes(4).toString('hex')}`;
  for (const dir of ['root', 'nix', 'home', 'cache', 'tmp']) mkdirSync(join(base, dir), { recursive: true });
  writeFileSync(join(base, 'enter.sh'), ENTER);
  const holder = spawn(UNSHARE, ['--mount', '--propagation', 'private', '/bin/sh', join(base, 'enter.sh'), base], { stdio: ['pipe', 'pipe', 'pipe'] });
  const started: ChildProcess[] = [];
  let stderr = '';
  holder.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const pid = holder.pid;
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      holder.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('ready\n')) resolve();
      });
      holder.once('exit', (code) => reject(new Error(`nix root setup exited ${code}: ${stderr}`)));
    });
    // "ready" comes right before the exec of chroot: wait for the holder's root to be the new one.
    const chrooted = () => pid !== undefined && readlinkSync(`/proc/${pid}/root`) === join(base, 'root');
    for (let i = 0; i < 500 && !chrooted(); i++) await new Promise((r) => setTimeout(r, 10));
    if (!chrooted()) throw new Error(`nix root: holder ${pid} is not chrooted into ${base}/root`);
  } catch (error) {
    holder.kill('SIGKILL');
    await exited(holder);
    if (mountsUnder(base).length === 0) rmSync(base, { recursive: true, force: true });
    throw error;
  }

  const env: NodeJS.ProcessEnv = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: join(base, 'home'),
    XDG_CACHE_HOME: join(base, 'cache'),
    TMPDIR: join(base, 'tmp'),
    NIX_CONFIG,
  };
  const enter = (command: string, args: string[]) => ['-t', String(pid), '-m', '-r', '-w', '--', command, ...args];

  const root: NixRoot = {
    base,
    home: join(base, 'home'),
    env,
    run: (command, args, options = {}) => collect(NSENTER, enter(command, args), options.env ?? env),
    async check(command, args) {
      const result = await root.run(command, args);
      if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.code}:\n${result.stderr}`);
      return result.stdout;
    },
    start(command, args) {
      const child = spawn(NSENTER, enter(command, args), { env, stdio: ['ignore', 'pipe', 'pipe'] });
      started.push(child);
      return child;
    },
    restartd: (args, options = {}) => collect(NSENTER, enter(process.execPath, [CLI, ...args]), options.env ?? env),
    hostPath: (path) => join(base, path),
    async close() {
      for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await Promise.all(started.map(exited));
      holder.stdin?.end();
      holder.kill('SIGKILL');
      await exited(holder);
      // The root's mounts were private to its namespace; refuse to delete through any mount.
      const mounts = mountsUnder(base);
      if (mounts.length > 0) throw new Error(`nix root: not removing ${base}, mounts under it: ${mounts.join(', ')}`);
      rmSync(base, { recursive: true, force: true });
    },
  };
  return root;
}
