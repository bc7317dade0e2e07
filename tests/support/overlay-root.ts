import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export interface RootRun {
  code: number;
  out: string;
}

/**
 * A throwaway copy of the host's root: an overlay whose lower layer is `/` and whose upper layer
 * is a scratch directory. Each `run` mounts it in a private mount namespace (with /proc and /dev)
 * and chroots into it, so `dpkg -i`, apt and maintainer scripts change the upper layer only; the
 * host's /usr, /etc, /var/lib/dpkg and /var/lib/restartd stay as they are.
 */
export class OverlayRoot {
  readonly base: string;
  /** What the runs changed: files and directories they wrote, as the upper layer holds them. */
  readonly upper: string;

  constructor(prefix: string) {
    this.base = mkdtempSync(prefix);
    this.upper = join(this.base, 'upper');
    for (const dir of ['upper', 'work', 'merged']) mkdirSync(join(this.base, dir));
  }

  /** `sh -c SCRIPT` as root inside the copy, cwd `/`. */
  run(script: string, env: Record<string, string> = {}, timeoutMs = 300_000): Promise<RootRun> {
    const merged = join(this.base, 'merged');
    const setup = [
      `mount -t overlay overlay -o lowerdir=/,upperdir=${this.upper},workdir=${join(this.base, 'work')} ${merged}`,
      `mount -t proc proc ${merged}/proc`,
      `mount --rbind /dev ${merged}/dev`,
      // The host's /run is a tmpfs the overlay does not show: the copy gets its own, empty one,
      // so no systemd runs there (maintainer scripts skip systemctl) and no host state leaks in.
      `mount -t tmpfs tmpfs ${merged}/run`,
      `cd ${merged}`,
      'exec chroot . /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@" /bin/sh -c "$0"',
    ].join(' && ');
    const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    return new Promise((resolve) => {
      execFile('unshare', ['--mount', '--propagation', 'private', '/bin/sh', '-c', setup, `cd / && ${script}`, ...vars], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out: stdout + stderr });
      });
    });
  }

  remove(): void {
    rmSync(this.base, { recursive: true, force: true });
  }
}
