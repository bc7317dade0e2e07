import { matchesGlob } from '../config/glob.js';

/** Which manager's units an entry is about. */
export type ManagerScope = 'system' | 'user';

/**
 * One row of the protected-unit table: units restartd does not restart by default.
 * `then` is what it does instead: `skip` (leave it, the admin picks the moment), `reboot-hint`
 * (nothing short of a reboot refreshes it safely), or `notify` (tell it, never kill it).
 */
export interface ProtectedUnits {
  scope: ManagerScope;
  patterns: readonly string[];
  then: 'skip' | 'reboot-hint' | 'notify';
  why: string;
}

/**
 * The default protected units. Sources: needrestart's `override_rc` (ex/needrestart.conf), dnf's
 * needs-restarting (`NEED_REBOOT`: kernel, glibc, systemd, dbus, dbus-broker → reboot), NixOS
 * (dbus, logind, getty, display-manager and user@ are not restarted by switch-to-configuration).
 *
 * Deliberately NOT here, so restarted like any service:
 * - systemd-journald: needrestart's entry works around Debian #771122 (systemd 215); since then
 *   journald keeps the services' stdout streams in its fd store across restarts, and distributions'
 *   own packaging restarts it on upgrade. Likewise systemd-udevd, -resolved, -timesyncd, -machined.
 * - sshd: its units use KillMode=process, so a restart leaves logged-in sessions alone.
 * - PID 1 and the users' managers (user@UID.service): restarting one would end every session, so
 *   the policy never does; it has them re-execute themselves (daemon-reexec) instead.
 */
export const PROTECTED_UNITS: readonly ProtectedUnits[] = [
  {
    scope: 'system',
    patterns: ['dbus.service', 'dbus-broker.service', 'dbus-daemon.service', 'dbus.socket', 'messagebus.service'],
    then: 'reboot-hint',
    why: 'the system bus: restarting it cuts every client off the bus (logind, NetworkManager, polkit, desktops); dnf asks for a reboot instead',
  },
  {
    scope: 'system',
    patterns: ['systemd-logind.service'],
    then: 'reboot-hint',
    why: 'logind holds every session, seat and device grant; needrestart leaves it (Debian #798097)',
  },
  {
    scope: 'system',
    patterns: ['display-manager.service', 'gdm.service', 'gdm3.service', 'lightdm.service', 'sddm.service', 'xdm.service', 'lxdm.service', 'kdm.service', 'nodm.service', 'slim.service', 'wdm.service', 'greetd.service', 'ly.service'],
    then: 'skip',
    why: 'a display manager: restarting it ends every graphical session',
  },
  {
    scope: 'system',
    patterns: ['getty@*.service', 'serial-getty@*.service', 'autovt@*.service', 'console-getty.service', 'container-getty@*.service'],
    then: 'skip',
    why: 'a login console: restarting it kills the shell logged in on it',
  },
  {
    scope: 'system',
    patterns: ['emergency.service', 'rescue.service', 'debug-shell.service'],
    then: 'skip',
    why: 'a rescue shell: restarting it kills the admin working in it',
  },
  {
    scope: 'system',
    patterns: ['NetworkManager.service', 'network-manager.service', 'networking.service', 'systemd-networkd.service', 'wpa_supplicant.service', 'wpa_supplicant@*.service', 'iwd.service', 'connman.service', 'dhcpcd.service', 'dhcpcd@*.service'],
    then: 'skip',
    why: 'network configuration: a restart can drop the addresses or links the admin is connected through (needrestart leaves it)',
  },
  {
    scope: 'system',
    patterns: ['openvpn*.service', 'wg-quick@*.service', 'strongswan*.service', 'tinc*.service', 'bird*.service', 'frr.service', 'quagga.service'],
    then: 'skip',
    why: 'a tunnel or routing daemon: a restart tears down the routes or tunnel the admin may be connected through',
  },
  {
    scope: 'system',
    patterns: ['docker.service', 'containerd.service', 'libvirtd.service', 'libvirt-guests.service', 'xendomains.service', 'lxc.service', 'lxcfs.service', 'systemd-nspawn@*.service'],
    then: 'skip',
    why: 'a container or VM host: restarting it stops or disconnects every container or VM it runs',
  },
  {
    scope: 'system',
    patterns: ['apt-daily.service', 'apt-daily-upgrade.service', 'unattended-upgrades.service', 'packagekit.service', 'dnf-automatic*.service', 'dnf-makecache.service', 'nixos-upgrade.service'],
    then: 'skip',
    why: 'a package manager run, maybe the one that called restartd: restarting it aborts the upgrade',
  },
  {
    scope: 'system',
    patterns: ['restartd*.service'],
    then: 'skip',
    why: "restartd's own unit: restarting it would abort this run",
  },
  {
    scope: 'system',
    patterns: ['rc-local.service'],
    then: 'skip',
    why: 'rc.local: a restart runs the whole script again (needrestart leaves it)',
  },
  {
    scope: 'user',
    patterns: ['dbus.service', 'dbus-broker.service', 'dbus.socket'],
    then: 'skip',
    why: 'the session bus: restarting it breaks every app of the desktop session',
  },
  {
    scope: 'user',
    patterns: ['org.gnome.Shell@*.service', 'gnome-shell*.service', 'gnome-session*.service', 'plasma-*.service'],
    then: 'skip',
    why: 'the desktop shell or session manager: restarting it ends or disrupts the graphical session',
  },
  {
    scope: 'user',
    patterns: ['app-*.service'],
    then: 'notify',
    why: 'an app the user launched (XDG app unit): it is told, never killed',
  },
];

/** The first protected-units row a unit name matches, or undefined. */
export function findProtected(
  scope: ManagerScope,
  unitName: string,
  table: readonly ProtectedUnits[] = PROTECTED_UNITS,
): ProtectedUnits | undefined {
  return table.find((row) => row.scope === scope && row.patterns.some((pattern) => matchesGlob(pattern, unitName)));
}
