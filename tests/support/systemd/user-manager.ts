import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SystemdSandbox } from '../systemd-sandbox.js';
import { pollUntil } from './proc-identity.js';
import { systemctl } from './units.js';

const VENDOR = ['/usr/lib/systemd/system', '/lib/systemd/system'];

/** A throwaway login user on the host (useradd -m), removed with `remove()`. */
export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  remove(): void;
}

export function createUser(name: string): TestUser {
  try {
    execFileSync('userdel', ['-r', name], { stdio: 'ignore' });
  } catch {
    // not there
  }
  execFileSync('useradd', ['-m', '-s', '/bin/sh', name]);
  const [uid, gid] = execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim().split(' ').concat(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  const home = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim().split(':')[5] ?? `/home/${name}`;
  return {
    name,
    uid: Number(uid),
    gid: Number(gid),
    home,
    remove: () => {
      try {
        execFileSync('userdel', ['-r', '-f', name], { stdio: 'ignore' });
      } catch {
        // gone already
      }
    },
  };
}

/**
 * Makes user@.service and user-runtime-dir@.service loadable in the sandbox. Without logind the
 * manager needs XDG_RUNTIME_DIR set for it (a drop-in).
 */
export function installUserManagerUnits(sandbox: SystemdSandbox): void {
  const vendor = VENDOR.find((dir) => existsSync(join(dir, 'user@.service')));
  if (vendor === undefined) throw new Error('user@.service not found: install systemd (scripts/install-test-deps)');
  for (const unit of ['user@.service', 'user-runtime-dir@.service', 'user.slice']) {
    copyFileSync(join(vendor, unit), join(sandbox.unitDir, unit));
  }
  for (const unit of ['user@.service', 'user-runtime-dir@.service']) {
    mkdirSync(join(sandbox.unitDir, `${unit}.d`), { recursive: true });
    writeFileSync(join(sandbox.unitDir, `${unit}.d`, 'runtime-dir.conf'), '[Service]\nEnvironment=XDG_RUNTIME_DIR=/run/user/%i\n');
  }
}

/** Starts user@UID.service and waits for the user's bus socket (/run/user/UID/bus inside the sandbox). */
export async function startUserManager(sandbox: SystemdSandbox, user: TestUser): Promise<void> {
  await systemctl(sandbox, 'start', `user@${user.uid}.service`);
  const bus = `/run/user/${user.uid}/bus`;
  // The bus comes first; the manager takes its name on it a moment later.
  const onBus = async (): Promise<boolean> =>
    (await sandbox.exec(['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', 'busctl', `--address=unix:path=${bus}`,
      'get-property', 'org.freedesktop.systemd1', '/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager', 'Version'])).code === 0;
  const ready = await pollUntil(async () => (await sandbox.exec(['test', '-S', bus])).code === 0 && (await onBus()), 60_000, 100);
  if (!ready) throw new Error(`no user manager on the user bus at ${bus} in the sandbox`);
}

/** `systemctl --user ARGS` as the user, inside the sandbox; throws with its stderr when it fails. */
export async function userctl(sandbox: SystemdSandbox, user: TestUser, ...args: string[]): Promise<string> {
  const r = await sandbox.exec([
    'setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--',
    'env', '-i', `XDG_RUNTIME_DIR=/run/user/${user.uid}`, `DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/${user.uid}/bus`, `HOME=${user.home}`,
    'PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'systemctl', '--user', ...args,
  ]);
  if (r.code !== 0) throw new Error(`systemctl --user ${args.join(' ')} (${user.name}): exit ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Writes a user unit into the user's ~/.config/systemd/user (owned by the user). */
export function writeUserUnit(user: TestUser, name: string, lines: Record<string, string[]>): string {
  const dir = join(user.home, '.config', 'systemd', 'user');
  mkdirSync(dir, { recursive: true });
  execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, join(user.home, '.config')]);
  const text = Object.entries(lines).map(([section, keys]) => `[${section}]\n${keys.join('\n')}\n`).join('\n');
  const path = join(dir, name);
  writeFileSync(path, text);
  execFileSync('chown', [`${user.uid}:${user.gid}`, path]);
  return path;
}

export async function userMainPid(sandbox: SystemdSandbox, user: TestUser, unit: string): Promise<number> {
  return Number((await userctl(sandbox, user, 'show', '-P', 'MainPID', unit)).trim());
}

/** The host PID of a process of `uid` running `exe` (deleted or not). */
export function pidRunning(exe: string, uid: number): number | undefined {
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const path = readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
      if (path === exe && new RegExp(`^Uid:\\s+${uid}\\s`, 'm').test(readFileSync(`/proc/${pid}/status`, 'utf8'))) return Number(pid);
    } catch {
      // gone, or a kernel thread
    }
  }
  return undefined;
}
