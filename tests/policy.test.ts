import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/config/index.js';
import type { Owner } from '../src/types/owner.js';
import { decide, PROTECTED_UNITS, type Decision, type PolicyConfig, type UnitFacts } from '../src/plan/index.js';

const system = (name: string): Owner => ({ kind: 'system-unit', name });
const user = (name: string, uid = 1000): Owner => ({ kind: 'user-unit', name, uid });
const unit = (name: string, extra: Partial<UnitFacts> = {}): UnitFacts => ({ name, canReload: true, ...extra });
const config = (extra: Partial<PolicyConfig> = {}): PolicyConfig => ({ ...DEFAULT_CONFIG, ...extra });

/** "action" or "skip:reason": what the table checks; the reasons' words are checked below. */
const short = (d: Decision): string => (d.action === 'skip' ? `skip:${d.reason}` : d.action);

type Case = [situation: string, expected: string, owner: Owner, unit: UnitFacts | undefined, config?: PolicyConfig];

/** Each case names the situation; the whole table is the policy's documentation in examples. */
const policyCases: Case[] = [
  // owners that are not units
  ['kernel thread', 'skip:kernel-thread', { kind: 'kernel-thread', name: 'pid:2' }, undefined],
  ['PID 1', 'daemon-reexec', { kind: 'pid1', name: 'init' }, undefined],
  ['container', 'skip:container', { kind: 'container', name: 'abc123def4567' }, undefined],
  ['login session scope', 'notify', { kind: 'session-scope', name: 'session-3.scope', uid: 1000 }, undefined],
  ['bare process', 'notify', { kind: 'process', name: 'pid:4242' }, undefined],
  // what systemd can do
  ['system scope (systemd-run --scope)', 'notify', system('run-r1b2.scope'), unit('run-r1b2.scope')],
  ['mount unit', 'skip:unit-type', system('mnt-data.mount'), unit('mnt-data.mount')],
  ['scope with a config skip', 'skip:config-skip', system('run-r1b2.scope'), undefined, config({ units: [{ match: 'run-*.scope', action: 'skip' }] })],
  ['mount with a config restart stays unit-type', 'skip:unit-type', system('mnt-data.mount'), undefined, config({ units: [{ match: '*.mount', action: 'restart' }] })],
  // plain services
  ['plain service', 'restart', system('nginx.service'), unit('nginx.service')],
  ['service unknown to its manager', 'skip:unit-unknown', system('gone.service'), undefined],
  ['journald (restartable since its fd store)', 'restart', system('systemd-journald.service'), unit('systemd-journald.service')],
  ['udevd', 'restart', system('systemd-udevd.service'), unit('systemd-udevd.service')],
  ['sshd (KillMode=process keeps sessions)', 'restart', system('ssh.service'), unit('ssh.service')],
  ['socket unit', 'restart', system('nginx.socket'), unit('nginx.socket')],
  // protected defaults
  ['dbus', 'reboot-hint', system('dbus.service'), unit('dbus.service')],
  ['dbus-broker', 'reboot-hint', system('dbus-broker.service'), unit('dbus-broker.service')],
  ['logind', 'reboot-hint', system('systemd-logind.service'), unit('systemd-logind.service')],
  ['gdm', 'skip:protected-unit', system('gdm.service'), unit('gdm.service')],
  ['display-manager alias', 'skip:protected-unit', system('display-manager.service'), unit('display-manager.service')],
  ['getty', 'skip:protected-unit', system('getty@tty1.service'), unit('getty@tty1.service')],
  ['serial getty', 'skip:protected-unit', system('serial-getty@ttyS0.service'), unit('serial-getty@ttyS0.service')],
  ['container getty', 'skip:protected-unit', system('container-getty@1.service'), unit('container-getty@1.service')],
  ['console getty', 'skip:protected-unit', system('console-getty.service'), unit('console-getty.service')],
  ['rescue shell', 'skip:protected-unit', system('rescue.service'), unit('rescue.service')],
  ['user manager re-executes, never restarts', 'daemon-reexec', system('user@1000.service'), unit('user@1000.service')],
  ['user manager with NixOS X-RestartIfChanged=false', 'daemon-reexec', system('user@1000.service'), unit('user@1000.service', { xRestartIfChanged: false })],
  ['user manager without unit facts', 'daemon-reexec', system('user@1000.service'), undefined],
  ['user manager, config skip', 'skip:config-skip', system('user@1000.service'), undefined, config({ units: [{ match: 'user@*', action: 'skip' }] })],
  ['NetworkManager', 'skip:protected-unit', system('NetworkManager.service'), unit('NetworkManager.service')],
  ['networkd', 'skip:protected-unit', system('systemd-networkd.service'), unit('systemd-networkd.service')],
  ['wpa_supplicant', 'skip:protected-unit', system('wpa_supplicant.service'), unit('wpa_supplicant.service')],
  ['docker', 'skip:protected-unit', system('docker.service'), unit('docker.service')],
  ['libvirtd', 'skip:protected-unit', system('libvirtd.service'), unit('libvirtd.service')],
  ['nspawn container', 'skip:protected-unit', system('systemd-nspawn@web.service'), unit('systemd-nspawn@web.service')],
  ['apt run that may have called restartd', 'skip:protected-unit', system('apt-daily-upgrade.service'), unit('apt-daily-upgrade.service')],
  ['protected without unit facts', 'skip:protected-unit', system('gdm.service'), undefined],
  // user units
  ['user service', 'restart', user('syncthing.service'), unit('syncthing.service')],
  ['user service without uid', 'skip:unit-unknown', { kind: 'user-unit', name: 'syncthing.service' }, unit('syncthing.service')],
  ['user app scope', 'notify', user('app-gnome-firefox-4242.scope'), unit('app-gnome-firefox-4242.scope')],
  ['user app service', 'notify', user('app-org.gnome.Terminal@1.service'), unit('app-org.gnome.Terminal@1.service')],
  ['session bus', 'skip:protected-unit', user('dbus.service'), unit('dbus.service')],
  ['gnome shell', 'skip:protected-unit', user('org.gnome.Shell@wayland.service'), unit('org.gnome.Shell@wayland.service')],
  ['getty name in a user manager is not the system getty', 'restart', user('getty@x.service'), unit('getty@x.service')],
  // unit keys
  ['RefuseManualStop', 'skip:refuse-manual-stop', system('auditd.service'), unit('auditd.service', { refuseManualStop: true })],
  ['RefuseManualStart', 'skip:refuse-manual-start', system('a.service'), unit('a.service', { refuseManualStart: true })],
  ['CanStart=no', 'skip:refuse-manual-start', system('a.service'), unit('a.service', { canStart: false })],
  ['CanStop=no', 'skip:refuse-manual-stop', system('a.service'), unit('a.service', { canStop: false })],
  ['RefuseManualStart beats X-Restartd-Action=restart', 'skip:refuse-manual-start', system('a.service'), unit('a.service', { xRestartdAction: 'restart', refuseManualStart: true })],
  ['RefuseManualStart beats a config restart', 'skip:refuse-manual-start', system('a.service'), unit('a.service', { refuseManualStart: true }), config({ units: [{ match: 'a', action: 'restart' }] })],
  ['RefuseManualStart allows a reload', 'reload', system('a.service'), unit('a.service', { refuseManualStart: true, xReloadIfChanged: true })],
  ['RefuseManualStart, unit file changed', 'skip:refuse-manual-start', system('a.service'), unit('a.service', { refuseManualStart: true, unitFileChanged: true })],
  ['X-OnlyManualStart=true', 'skip:x-only-manual-start', system('a.service'), unit('a.service', { xOnlyManualStart: true })],
  ['X-OnlyManualStart=true allows a reload', 'reload', system('a.service'), unit('a.service', { xOnlyManualStart: true, xReloadIfChanged: true })],
  ['X-RestartIfChanged=false', 'skip:x-restart-if-changed-false', system('a.service'), unit('a.service', { xRestartIfChanged: false })],
  ['X-RestartIfChanged=true', 'restart', system('a.service'), unit('a.service', { xRestartIfChanged: true })],
  ['X-ReloadIfChanged', 'reload', system('a.service'), unit('a.service', { xReloadIfChanged: true })],
  ['X-ReloadIfChanged, cannot reload', 'restart', system('a.service'), unit('a.service', { xReloadIfChanged: true, canReload: false })],
  ['X-ReloadIfChanged, reload support unknown', 'reload', system('a.service'), { name: 'a.service', xReloadIfChanged: true }],
  ['X-ReloadIfChanged beats RefuseManualStop (a reload is no stop)', 'reload', system('a.service'), unit('a.service', { xReloadIfChanged: true, refuseManualStop: true })],
  ['X-ReloadIfChanged beats X-RestartIfChanged=false', 'reload', system('a.service'), unit('a.service', { xReloadIfChanged: true, xRestartIfChanged: false })],
  ['X-ReloadIfChanged, cannot reload, RefuseManualStop', 'skip:refuse-manual-stop', system('a.service'), unit('a.service', { xReloadIfChanged: true, canReload: false, refuseManualStop: true })],
  ['X-ReloadIfChanged, cannot reload, X-RestartIfChanged=false', 'skip:x-restart-if-changed-false', system('a.service'), unit('a.service', { xReloadIfChanged: true, canReload: false, xRestartIfChanged: false })],
  ['RefuseManualStop beats X-RestartIfChanged=false', 'skip:refuse-manual-stop', system('a.service'), unit('a.service', { refuseManualStop: true, xRestartIfChanged: false })],
  ['X-RestartIfChanged=false beats protected', 'skip:x-restart-if-changed-false', system('gdm.service'), unit('gdm.service', { xRestartIfChanged: false })],
  ['protected beats X-ReloadIfChanged', 'reboot-hint', system('dbus.service'), unit('dbus.service', { xReloadIfChanged: true })],
  ['unit file changed', 'stop-start', system('a.service'), unit('a.service', { unitFileChanged: true })],
  ['unit file changed, X-StopIfChanged=false', 'restart', system('a.service'), unit('a.service', { unitFileChanged: true, xStopIfChanged: false })],
  ['unit file changed, X-ReloadIfChanged', 'reload', system('a.service'), unit('a.service', { unitFileChanged: true, xReloadIfChanged: true })],
  ['X-StopIfChanged=true, unit file unchanged', 'restart', system('a.service'), unit('a.service', { xStopIfChanged: true })],
  // X-Restartd-Action=
  ['X-Restartd-Action=skip', 'skip:x-restartd-action-skip', system('a.service'), unit('a.service', { xRestartdAction: 'skip' })],
  ['X-Restartd-Action=notify', 'notify', system('a.service'), unit('a.service', { xRestartdAction: 'notify' })],
  ['X-Restartd-Action=stop-start', 'stop-start', system('a.service'), unit('a.service', { xRestartdAction: 'stop-start' })],
  ['X-Restartd-Action=reload', 'reload', system('a.service'), unit('a.service', { xRestartdAction: 'reload' })],
  ['X-Restartd-Action=reload, cannot reload', 'restart', system('a.service'), unit('a.service', { xRestartdAction: 'reload', canReload: false })],
  ['X-Restartd-Action=restart beats RefuseManualStop', 'restart', system('a.service'), unit('a.service', { xRestartdAction: 'restart', refuseManualStop: true })],
  ['X-Restartd-Action=restart beats protected', 'restart', system('gdm.service'), unit('gdm.service', { xRestartdAction: 'restart' })],
  ['X-Restartd-Action=restart beats X-ReloadIfChanged', 'restart', system('a.service'), unit('a.service', { xRestartdAction: 'restart', xReloadIfChanged: true })],
  // config
  ['config skip', 'skip:config-skip', system('nginx.service'), unit('nginx.service'), config({ units: [{ match: 'nginx', action: 'skip' }] })],
  ['config glob reload', 'reload', system('php8.2-fpm.service'), unit('php8.2-fpm.service'), config({ units: [{ match: 'php*-fpm', action: 'reload' }] })],
  ['config first match wins', 'notify', system('web.service'), unit('web.service'), config({ units: [{ match: 'w*', action: 'notify' }, { match: 'web', action: 'skip' }] })],
  ['config beats X-Restartd-Action', 'restart', system('a.service'), unit('a.service', { xRestartdAction: 'skip' }), config({ units: [{ match: 'a', action: 'restart' }] })],
  ['config beats protected', 'restart', system('dbus.service'), unit('dbus.service'), config({ units: [{ match: 'dbus', action: 'restart' }] })],
  ['config with a type does not match another type', 'restart', system('a.service'), unit('a.service'), config({ units: [{ match: 'a.socket', action: 'skip' }] })],
  ['config for a unit without facts', 'restart', system('gone.service'), undefined, config({ units: [{ match: 'gone', action: 'restart' }] })],
  ['config protect', 'skip:protected-unit', system('postgresql@15-main.service'), unit('postgresql@15-main.service'), config({ protect: ['postgresql@*'] })],
  ['config unprotect', 'restart', system('docker.service'), unit('docker.service'), config({ unprotect: ['docker'] })],
  ['config protect beats unprotect', 'skip:protected-unit', system('docker.service'), unit('docker.service'), config({ protect: ['docker'], unprotect: ['docker'] })],
];

describe('policy', () => {
  it.each(policyCases)('%s -> %s', (_situation, expected, owner, facts, cfg) => {
    expect(short(decide(owner, facts, cfg ?? config()))).toBe(expected);
  });

  it('reasons say why', () => {
    expect(decide(system('gdm.service'), unit('gdm.service'), config())).toEqual({
      action: 'skip',
      reason: 'protected-unit',
      detail: 'a display manager: restarting it ends every graphical session',
    });
    expect(decide(user('syncthing.service', 1001), unit('syncthing.service'), config())).toEqual({
      action: 'restart',
      reason: 'default (through the user manager of uid 1001)',
    });
    expect(decide(system('a.service'), unit('a.service', { xReloadIfChanged: true, canReload: false }), config())).toEqual({
      action: 'restart',
      reason: 'X-ReloadIfChanged=true, but a.service cannot reload (no ExecReload=): restarted instead',
    });
    expect(decide(system('a.service'), unit('a.service', { xReloadIfChanged: true, refuseManualStop: true }), config())).toEqual({
      action: 'reload',
      reason: 'X-ReloadIfChanged=true (RefuseManualStop=yes allows a reload)',
    });
    const withReason = config({ units: [{ match: 'nginx*', action: 'skip' }, { match: 'web', action: 'reload', reason: 'graceful' }] });
    expect(decide(system('web.service'), unit('web.service'), withReason)).toEqual({ action: 'reload', reason: 'config units[1] ("web"): graceful' });
    expect(decide(system('nginx.service'), unit('nginx.service'), withReason)).toEqual({
      action: 'skip',
      reason: 'config-skip',
      detail: 'config units[0] ("nginx*")',
    });
    expect(decide(system('docker.service'), unit('docker.service'), config({ protect: ['dock*'] }))).toMatchObject({
      detail: 'protected by the config (protect "dock*")',
    });
  });

  it('every protected row says why, and its patterns are valid globs', () => {
    for (const row of PROTECTED_UNITS) {
      expect(row.why.length).toBeGreaterThan(20);
      for (const pattern of row.patterns) expect(pattern).toMatch(/\.(service|socket|scope)$/);
    }
  });
});
