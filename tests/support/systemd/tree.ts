import { copyFileSync, existsSync, mkdirSync, statfsSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The sandbox's marker: a state directory without it is never adopted or removed. */
export const MARKER = '.restartd-systemd-sandbox';

const VENDOR_DIRS = ['/usr/lib/systemd/system', '/lib/systemd/system'];
const SYSTEMD_BINARIES = ['/usr/lib/systemd/systemd', '/lib/systemd/systemd'];
const CGROUP2_SUPER_MAGIC = 0x63677270;

/**
 * Vendor units the sandbox may load. The vendor directory itself is not on the unit path: its
 * *.wants directories would pull in tmpfiles (which cleans the shared /tmp), timers and gettys.
 */
const ALLOWED_UNITS = [
  'basic.target', 'sysinit.target', 'sockets.target', 'timers.target', 'paths.target', 'slices.target',
  'local-fs.target', 'local-fs-pre.target', 'remote-fs.target', 'remote-fs-pre.target', 'swap.target',
  'network.target', 'network-pre.target', 'network-online.target', 'nss-lookup.target',
  'nss-user-lookup.target', 'time-set.target', 'time-sync.target', 'multi-user.target',
  'shutdown.target', 'umount.target', 'final.target', 'poweroff.target', 'halt.target', 'reboot.target',
  'exit.target', 'systemd-poweroff.service', 'systemd-halt.service', 'systemd-reboot.service',
  'systemd-exit.service', 'systemd-journald.service', 'systemd-journald.socket',
  'systemd-journald-dev-log.socket', 'dbus.service', 'dbus.socket', 'user.slice', 'machine.slice',
];

const WANTS: Record<string, string[]> = {
  'sysinit.target.wants': ['systemd-journald.service'],
  'sockets.target.wants': ['systemd-journald.socket', 'systemd-journald-dev-log.socket', 'dbus.socket'],
  'multi-user.target.wants': ['dbus.service'],
};

export function systemdBinary(): string {
  const found = SYSTEMD_BINARIES.find((path) => existsSync(path));
  if (found === undefined) throw new Error(`systemd not installed (looked for ${SYSTEMD_BINARIES.join(', ')}); run scripts/install-test-deps`);
  return found;
}

/** Where the host's cgroup2 hierarchy is mounted (pure v2, or the "unified" part of a hybrid setup). */
export function cgroup2Root(): string {
  for (const path of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
    try {
      if (statfsSync(path).type === CGROUP2_SUPER_MAGIC) return path;
    } catch {
      // not mounted here
    }
  }
  throw new Error('no cgroup2 hierarchy at /sys/fs/cgroup or /sys/fs/cgroup/unified');
}

/** Lays out DIR: the sandbox's /run, /dev mount point, and /etc/systemd with the allowed vendor units. */
export function prepareTree(dir: string): void {
  const etc = join(dir, 'etc-systemd');
  const units = join(etc, 'sandbox-units');
  mkdirSync(join(dir, 'run', 'systemd', 'system'), { recursive: true, mode: 0o755 });
  mkdirSync(join(dir, 'dev'));
  mkdirSync(join(etc, 'system'), { recursive: true });
  mkdirSync(join(etc, 'sandbox-empty'));
  for (const wants of Object.keys(WANTS)) mkdirSync(join(units, wants), { recursive: true });
  writeFileSync(join(etc, 'system.conf'), '[Manager]\nShowStatus=no\nLogColor=no\nDefaultTimeoutStopSec=5s\n');
  writeFileSync(
    join(etc, 'journald.conf'),
    '[Journal]\nStorage=volatile\nRuntimeMaxUse=16M\nReadKMsg=no\nForwardToSyslog=no\nForwardToKMsg=no\nForwardToConsole=no\nForwardToWall=no\nRateLimitIntervalSec=0\n',
  );
  const vendor = VENDOR_DIRS.find((path) => existsSync(join(path, 'dbus.service')));
  if (vendor === undefined) throw new Error('dbus.service not found: install systemd and dbus (scripts/install-test-deps)');
  for (const unit of ALLOWED_UNITS) {
    if (existsSync(join(vendor, unit))) copyFileSync(join(vendor, unit), join(units, unit));
  }
  for (const [wants, members] of Object.entries(WANTS)) {
    for (const unit of members) symlinkSync(`../${unit}`, join(units, wants, unit));
  }
  symlinkSync('multi-user.target', join(units, 'default.target'));
}
