import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/config/index.js';
import type { StaleFile, StaleProcess } from '../src/types/stale.js';
import type { Owner } from '../src/types/owner.js';
import { buildPlan, unitFactsKey, unitJobOf, type PlanInput, type UnitFacts } from '../src/plan/index.js';
import { renderPlanText } from '../src/report/plan-text.js';

const libssl: StaleFile = { path: '/usr/lib/libssl.so.3', kind: 'deleted', via: 'map' };
const exe = (path: string): StaleFile => ({ path, kind: 'replaced', via: 'exe' });

function stale(pid: number, owner: Owner, files: StaleFile[] = [libssl]): StaleProcess {
  return { pid, ppid: 1, startTime: 1000 + pid, uid: owner.uid ?? 0, comm: owner.name.slice(0, 15), exe: null, owner, files };
}
const system = (name: string): Owner => ({ kind: 'system-unit', name, cgroup: `/system.slice/${name}` });

function factsOf(...list: Array<[key: string, facts: Partial<UnitFacts>]>): Map<string, UnitFacts> {
  return new Map(list.map(([key, facts]) => [key, { name: key.replace(/^user\/\d+\//, ''), canReload: true, ...facts }]));
}

const nginx = system('nginx.service');
const workers = Array.from({ length: 40 }, (_, i) => stale(2000 + i, nginx, i === 0 ? [exe('/usr/sbin/nginx'), libssl] : [libssl]));

const host: StaleProcess[] = [
  ...workers,
  stale(300, system('cups.service')),
  stale(310, system('php-fpm.service')),
  stale(320, system('postgresql.service')),
  stale(330, system('gdm.service')),
  stale(340, system('dbus.service')),
  stale(350, system('auditd.service')),
  stale(1, { kind: 'pid1', name: 'init' }, [{ path: '/usr/lib/systemd/libsystemd-shared-255.so', kind: 'deleted', via: 'map' }]),
  stale(5000, { kind: 'user-unit', name: 'syncthing.service', uid: 1000 }),
  stale(4999, system('user@1000.service'), [exe('/usr/lib/systemd/systemd')]),
  stale(5100, { kind: 'session-scope', name: 'session-3.scope', uid: 1000 }),
  stale(5101, { kind: 'session-scope', name: 'session-3.scope', uid: 1000 }),
  stale(6000, { kind: 'container', name: '0123456789abcdef' }),
  stale(99, { kind: 'process', name: 'pid:99' }),
  stale(100, { kind: 'process', name: 'pid:100' }, [{ path: '/nix/store/abc-app/bin/app', kind: 'left-generation', via: 'exe', storePath: '/nix/store/abc-app' }]),
];

const input: PlanInput = {
  config: DEFAULT_CONFIG,
  units: factsOf(
    ['nginx.service', {}],
    ['cups.service', { triggeredBy: ['cups.socket', 'cups.path'] }],
    // The socket's own unit file changed: it restarts with its service.
    ['cups.socket', { unitFileChanged: true }],
    ['php-fpm.service', { xReloadIfChanged: true }],
    ['postgresql.service', { unitFileChanged: true }],
    ['gdm.service', {}],
    ['dbus.service', {}],
    ['auditd.service', { refuseManualStop: true }],
    ['user/1000/syncthing.service', {}],
  ),
};

describe('buildPlan', () => {
  it('a socket-activated service restarts alone unless its socket must change; a stop-start takes its sockets along', () => {
    const sockets = (units: Map<string, UnitFacts>, owners: StaleProcess[]) => buildPlan(owners, { config: DEFAULT_CONFIG, units }).actions.map((a) => `${a.phase} ${a.unit ?? ''} ${(a.sockets ?? []).join(',')}`);
    const web = stale(700, system('web.service'));
    expect(sockets(factsOf(['web.service', { triggeredBy: ['web.socket'] }], ['web.socket', {}]), [web])).toEqual(['restart web.service ']);
    expect(sockets(factsOf(['web.service', { triggeredBy: ['web.socket'] }], ['web.socket', { unitFileChanged: true }]), [web])).toEqual(['restart web.service web.socket']);
    expect(sockets(factsOf(['web.service', { triggeredBy: ['web.socket'] }], ['web.socket', {}]), [web, stale(701, system('web.socket'))])).toEqual(['restart web.service web.socket', 'restart web.socket ']);
    expect(sockets(factsOf(['web.service', { triggeredBy: ['web.socket'], unitFileChanged: true }], ['web.socket', {}]), [web])).toEqual(['stop web.service web.socket', 'start web.service web.socket']);
    const mixed = factsOf(
      ['web.service', { triggeredBy: ['absent.socket', 'masked.socket', 'idle.socket', 'web.socket'], unitFileChanged: true }],
      ['masked.socket', { loadState: 'masked', activeState: 'inactive', unitFileChanged: true }],
      ['idle.socket', { loadState: 'loaded', activeState: 'inactive' }],
      ['web.socket', { loadState: 'loaded', activeState: 'active' }],
    );
    expect(sockets(mixed, [web])).toEqual(['stop web.service web.socket', 'start web.service web.socket']);
    expect(sockets(factsOf(['web.service', { triggeredBy: ['web.socket'], xNotSocketActivated: true }], ['web.socket', { unitFileChanged: true }]), [web])).toEqual(['restart web.service ']);
  });

  it('one action per owner, in phase order, with the policy and the evidence', () => {
    const plan = buildPlan(host, input);
    expect(plan.daemonReload).toBe(true);
    expect(plan.userDaemonReloads).toBeUndefined();
    const compact = plan.actions.map((a) => `${a.phase} ${a.action} ${a.unit ?? a.owner.name} [${a.pids.length}]${a.sockets ? ` +${a.sockets.join(',')}` : ''}: ${a.reason}`);
    expect(compact).toMatchInlineSnapshot(`
      [
        "stop stop-start postgresql.service [1]: its unit file changed: stopped with the old definition, started with the new one (X-StopIfChanged)",
        "daemon-reload daemon-reexec init [1]: PID 1, the system manager: it re-executes itself in place",
        "daemon-reload daemon-reexec user@1000.service [1]: the service manager of uid 1000: it re-executes itself in place, its units keep running",
        "reload reload php-fpm.service [1]: X-ReloadIfChanged=true",
        "restart restart cups.service [1] +cups.socket: default",
        "restart restart nginx.service [40]: default",
        "restart restart syncthing.service [1]: default (through the user manager of uid 1000)",
        "start stop-start postgresql.service [1]: its unit file changed: stopped with the old definition, started with the new one (X-StopIfChanged)",
        "notify notify session-3.scope [2]: login session session-3.scope: its processes are told, never killed",
        "notify notify pid:99 [1]: a process outside any unit: it is told, never killed",
        "notify notify pid:100 [1]: a process outside any unit: it is told, never killed",
        "none reboot-hint dbus.service [1]: the system bus: restarting it cuts every client off the bus (logind, NetworkManager, polkit, desktops); dnf asks for a reboot instead",
        "none skip auditd.service [1]: refuse-manual-stop",
        "none skip gdm.service [1]: protected-unit",
        "none skip 0123456789abcdef [1]: container",
      ]
    `);
  });

  it('the JSON shape of an action', () => {
    const plan = buildPlan(host, input);
    const byUnit = (unit: string) => plan.actions.find((a) => a.unit === unit);
    expect(byUnit('nginx.service')).toEqual({
      owner: nginx,
      action: 'restart',
      reason: 'default',
      pids: workers.map((w) => w.pid),
      phase: 'restart',
      unit: 'nginx.service',
      evidence: 'runs replaced /usr/sbin/nginx (+1 more file)',
    });
    expect(byUnit('syncthing.service')).toMatchObject({ userManager: { uid: 1000 }, unit: 'syncthing.service' });
    expect(byUnit('auditd.service')).toMatchObject({
      action: 'skip',
      reason: 'refuse-manual-stop',
      detail: 'RefuseManualStop=yes: systemd refuses to stop or restart it',
      phase: 'none',
    });
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });

  it('is deterministic: input order does not matter', () => {
    const shuffled = [...host].reverse();
    shuffled.push(shuffled.shift() as StaleProcess);
    expect(buildPlan(shuffled, input)).toEqual(buildPlan(host, input));
  });

  it('daemon-reload only when unit files changed; user managers get their own', () => {
    const units = factsOf(['nginx.service', {}], ['user/1001/a.service', { unitFileChanged: true }], ['user/1000/b.service', { unitFileChanged: true }]);
    expect(buildPlan(workers, { ...input, units })).toMatchObject({ daemonReload: false, userDaemonReloads: [1000, 1001] });
    expect(buildPlan(workers, { ...input, units: factsOf(['nginx.service', {}]), unitFilesChanged: true }).daemonReload).toBe(true);
    expect(buildPlan([], { ...input, units: new Map() })).toEqual({ daemonReload: false, actions: [] });
  });

  it('user units of two users are two owners', () => {
    const a = stale(1, { kind: 'user-unit', name: 'pipewire.service', uid: 1000 });
    const b = stale(2, { kind: 'user-unit', name: 'pipewire.service', uid: 1001 });
    const units = factsOf(['user/1000/pipewire.service', {}], ['user/1001/pipewire.service', {}]);
    const plan = buildPlan([b, a], { ...input, units });
    expect(plan.actions.map((x) => [x.userManager?.uid, x.pids])).toEqual([
      [1000, [1]],
      [1001, [2]],
    ]);
  });

  it('unitFactsKey', () => {
    expect(unitFactsKey(nginx)).toBe('nginx.service');
    expect(unitFactsKey({ kind: 'user-unit', name: 'a.service', uid: 7 })).toBe('user/7/a.service');
    expect(unitFactsKey({ kind: 'session-scope', name: 'session-1.scope', uid: 7 })).toBeUndefined();
  });

  it('unitJobOf maps action and phase to one systemd call', () => {
    const plan = buildPlan(host, input);
    const jobs = plan.actions.map((a) => {
      const job = unitJobOf(a);
      if (!job) return `${a.action}: none`;
      const where = job.manager.kind === 'user' ? ` (user ${job.manager.uid})` : '';
      return job.method === 'Reexecute' ? `Reexecute${where}` : `${job.method} ${job.unit}${where}${job.sockets.length ? ` then ${job.sockets.join(',')}` : ''}`;
    });
    expect(jobs).toMatchInlineSnapshot(`
      [
        "StopUnit postgresql.service",
        "Reexecute",
        "Reexecute (user 1000)",
        "ReloadUnit php-fpm.service",
        "RestartUnit cups.service then cups.socket",
        "RestartUnit nginx.service",
        "RestartUnit syncthing.service (user 1000)",
        "StartUnit postgresql.service",
        "notify: none",
        "notify: none",
        "notify: none",
        "reboot-hint: none",
        "skip: none",
        "skip: none",
        "skip: none",
      ]
    `);
  });
});

describe('renderPlanText', () => {
  it('--dry-run says "would", from the very same plan', () => {
    const plan = buildPlan(host, input);
    expect(renderPlanText(plan, { dryRun: true })).toMatchInlineSnapshot(`
      "would stop postgresql.service (1 process): holds deleted /usr/lib/libssl.so.3 — its unit file changed: stopped with the old definition, started with the new one (X-StopIfChanged)
      would daemon-reexec PID 1 (1 process): holds deleted /usr/lib/systemd/libsystemd-shared-255.so — PID 1, the system manager: it re-executes itself in place
      would daemon-reexec user@1000.service (1 process): runs replaced /usr/lib/systemd/systemd — the service manager of uid 1000: it re-executes itself in place, its units keep running
      would daemon-reload the system manager (unit files changed)
      would reload php-fpm.service (1 process): holds deleted /usr/lib/libssl.so.3 — X-ReloadIfChanged=true
      would restart cups.service (1 process): holds deleted /usr/lib/libssl.so.3; sockets cups.socket
      would restart nginx.service (40 processes): runs replaced /usr/sbin/nginx (+1 more file)
      would restart syncthing.service of uid 1000 (1 process): holds deleted /usr/lib/libssl.so.3 — default (through the user manager of uid 1000)
      would start postgresql.service (1 process): holds deleted /usr/lib/libssl.so.3 — its unit file changed: stopped with the old definition, started with the new one (X-StopIfChanged)
      would notify session-3.scope (2 processes): holds deleted /usr/lib/libssl.so.3 — login session session-3.scope: its processes are told, never killed
      would notify pid:99 (1 process): holds deleted /usr/lib/libssl.so.3 — a process outside any unit: it is told, never killed
      would notify pid:100 (1 process): runs /nix/store/abc-app/bin/app (left the generation) — a process outside any unit: it is told, never killed
      reboot needed for dbus.service (1 process): holds deleted /usr/lib/libssl.so.3 — the system bus: restarting it cuts every client off the bus (logind, NetworkManager, polkit, desktops); dnf asks for a reboot instead
      would skip auditd.service (1 process): holds deleted /usr/lib/libssl.so.3 — refuse-manual-stop: RefuseManualStop=yes: systemd refuses to stop or restart it
      would skip gdm.service (1 process): holds deleted /usr/lib/libssl.so.3 — protected-unit: a display manager: restarting it ends every graphical session
      would skip 0123456789abcdef (1 process): holds deleted /usr/lib/libssl.so.3 — container: container 0123456789abcdef: containers are updated by their own image, not restarted by restartd
      "
    `);
  });

  it('without --dry-run', () => {
    const plan = buildPlan(workers.slice(0, 3), { ...input, units: factsOf(['nginx.service', {}]) });
    expect(renderPlanText(plan, { dryRun: false })).toBe('restart nginx.service (3 processes): runs replaced /usr/sbin/nginx (+1 more file)\n');
  });

  it('nothing to do', () => {
    expect(renderPlanText({ daemonReload: false, actions: [] }, { dryRun: true })).toBe('nothing to do: no stale processes\n');
    expect(renderPlanText({ daemonReload: true, actions: [] }, { dryRun: true })).toBe('would daemon-reload the system manager (unit files changed)\n');
  });
});

describe('update-aware units', () => {
  const x = system('x.service');
  const facts = factsOf(['x.service', { canReload: false }]);

  it('a unit whose stale processes all registered is told; the policy action stays the fallback', () => {
    const plan = buildPlan([stale(10, x), stale(11, x)], { units: facts, config: DEFAULT_CONFIG, aware: new Map([[10, 'a'], [11, 'b']]) });
    expect(plan.actions).toEqual([
      expect.objectContaining({ action: 'notify', phase: 'notify', fallback: 'restart', unit: 'x.service', pids: [10, 11], reason: expect.stringContaining('update-aware: a, b registered') }),
    ]);
  });

  it('one unregistered process keeps the restart; protected units and PID 1 are never turned into a notify', () => {
    const some = buildPlan([stale(10, x), stale(11, x)], { units: facts, config: DEFAULT_CONFIG, aware: new Map([[10, 'a']]) });
    expect(some.actions).toEqual([expect.objectContaining({ action: 'restart', phase: 'restart' })]);
    expect(some.actions[0]).not.toHaveProperty('fallback');
    const other = buildPlan([stale(340, system('dbus.service')), stale(1, { kind: 'pid1', name: 'init' })], {
      units: factsOf(['dbus.service', {}]),
      config: DEFAULT_CONFIG,
      aware: new Map([[340, 'dbus'], [1, 'init']]),
    });
    expect(other.actions.map((a) => a.action).sort()).toEqual(['daemon-reexec', 'reboot-hint']);
  });
});

describe('a stop-start leaves no running unit down', () => {
  const base = stale(800, system('base.service'));
  const changed = { unitFileChanged: true };
  const lines = (units: Map<string, UnitFacts>, owners: StaleProcess[] = [base]) =>
    buildPlan(owners, { config: DEFAULT_CONFIG, units }).actions.map((a) => `${a.phase} ${a.action} ${a.unit ?? ''} [${a.pids.join(',')}]`);

  it('a running unit PartOf= or BindsTo= the stopped one, that its start does not pull in, is started again after it', () => {
    const units = factsOf(
      ['base.service', { ...changed, consistsOf: ['log.service', 'pulled.service'], boundBy: ['bound.service', 'idle.service'], pullsIn: ['pulled.service'] }],
      ['log.service', { activeState: 'active' }],
      ['pulled.service', { activeState: 'active' }],
      ['bound.service', { activeState: 'active' }],
      ['idle.service', { activeState: 'inactive' }],
    );
    expect(lines(units)).toEqual(['stop stop-start base.service [800]', 'start stop-start base.service [800]', 'start stop-start bound.service []', 'start stop-start log.service []']);
    const log = buildPlan([base], { config: DEFAULT_CONFIG, units }).actions.find((a) => a.unit === 'log.service');
    expect(log?.reason).toBe('the stop of base.service (PartOf=) takes it down: started again after it');
  });

  it('a dependent the plan skips is started again instead; one the plan restarts is left to its restart', () => {
    const units = factsOf(
      ['base.service', { ...changed, consistsOf: ['kept.service', 'own.service'] }],
      ['kept.service', { activeState: 'active', xRestartIfChanged: false }],
      ['own.service', { activeState: 'active' }],
    );
    const owners = [base, stale(801, system('kept.service')), stale(802, system('own.service'))];
    expect(lines(units, owners)).toEqual(['stop stop-start base.service [800]', 'restart restart own.service [802]', 'start stop-start base.service [800]', 'start stop-start kept.service [801]']);
    const kept = buildPlan(owners, { config: DEFAULT_CONFIG, units }).actions.find((a) => a.unit === 'kept.service');
    expect(kept?.reason).toBe('the stop of base.service (PartOf=) takes it down (planned: skip x-restart-if-changed-false): started again after it');
  });

  it('a dependent systemd refuses to start by hand makes the stop-start a restart, which systemd propagates to it', () => {
    const units = factsOf(
      ['base.service', { ...changed, consistsOf: ['guarded.service', 'log.service'] }],
      ['guarded.service', { activeState: 'active', refuseManualStart: true }],
      ['log.service', { activeState: 'active' }],
    );
    const plan = buildPlan([base], { config: DEFAULT_CONFIG, units });
    expect(plan.actions.map((a) => `${a.phase} ${a.action} ${a.unit ?? ''}`)).toEqual(['restart restart base.service']);
    expect(plan.actions[0]?.reason).toBe(
      'its unit file changed: stopped with the old definition, started with the new one (X-StopIfChanged); restarted instead of stop-started: the stop would take down guarded.service (PartOf=), which systemd refuses to start by hand',
    );
  });

  it("a user unit's dependents are looked up under its user's manager", () => {
    const owner: Owner = { kind: 'user-unit', name: 'app.service', uid: 1000 };
    const units = factsOf(['user/1000/app.service', { ...changed, consistsOf: ['helper.service'] }], ['user/1000/helper.service', { activeState: 'active' }], ['helper.service', { activeState: 'inactive' }]);
    const helper = buildPlan([stale(900, owner)], { config: DEFAULT_CONFIG, units }).actions.find((a) => a.unit === 'helper.service');
    expect(helper).toMatchObject({ phase: 'start', owner: { kind: 'user-unit', uid: 1000 }, userManager: { uid: 1000 } });
  });
});
