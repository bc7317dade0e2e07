import { appendFileSync, chmodSync, chownSync, copyFileSync, writeFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { connectSystemd } from '../src/systemd/adapter.js';
import { createUserManagers } from '../src/systemd/user-managers.js';
import { executePlan } from '../src/execute/execute-plan.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlannedAction } from '../src/types/plan.js';
import type { StaleReport } from '../src/report/stale-json.js';
import type { StatusUser } from '../src/types/status.js';
import { runCli } from './support/cli.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { createUser, installUserManagerUnits, pidRunning, startUserManager, userctl, userMainPid, writeUserUnit, type TestUser } from './support/systemd/user-manager.js';
import { mainPidOf, systemctl, writeUnit } from './support/systemd/units.js';
import { pollUntil } from './support/systemd/proc-identity.js';
import { cgroup2Root, systemdBinary } from './support/systemd/tree.js';

// Users' own services, restarted through each user's own systemd (user@UID.service) by a child
// acting as that user; a real user manager and a real user bus in the systemd sandbox.
let sandbox: SystemdSandbox;
let alice: TestUser;
let bob: TestUser;
let dir: string;
let stateDir: string;

const bin = (name: string): string => join(dir, 'bin', name);
/** A new build renamed over the old one: the running process now maps a deleted file. */
let builds = 0;
const upgrade = (name: string, from = '/bin/sleep'): void => {
  copyFileSync(from, `${bin(name)}.new`);
  appendFileSync(`${bin(name)}.new`, `\nrestartd-test build ${++builds}\n`);
  chmodSync(`${bin(name)}.new`, 0o755);
  renameSync(`${bin(name)}.new`, bin(name));
};
const sandboxOnly = (): string[] => ['--bus', sandbox.busAddress];
const actionsOf = (actions: PlannedAction[], uid: number): Array<{ unit: string | undefined; action: string; reason: string }> =>
  actions.filter((a) => a.owner.kind === 'user-unit' && a.owner.uid === uid).map(({ unit, action, reason }) => ({ unit, action, reason }));

beforeAll(async () => {
  sandbox = await startSystemd({ label: 'users' });
  // Names of this run's own: another run on the machine (or a killed one's leftovers) never collides.
  alice = createUser(`rdalice${process.pid}`);
  bob = createUser(`rdbob${process.pid}`);
  execFileSync('usermod', ['-aG', 'users', alice.name]);
  dir = mkdtempSync('/srv/restartd-test-users-');
  stateDir = join(dir, 'state');
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'bin'));
  for (const name of ['app', 'skipper', 'bobapp', 'sysapp']) {
    copyFileSync('/bin/sleep', bin(name));
    chmodSync(bin(name), 0o755);
  }
  installUserManagerUnits(sandbox);
  // alice's manager runs from a copy of systemd: replacing the copy makes user@UID.service itself stale.
  copyFileSync(systemdBinary(), bin('systemd'));
  mkdirSync(join(sandbox.unitDir, `user@${alice.uid}.service.d`));
  writeFileSync(join(sandbox.unitDir, `user@${alice.uid}.service.d`, 'copy.conf'), `[Service]\nExecStart=\nExecStart=${bin('systemd')} --user\n`);
  // X-Restartd-Action=skip is in a drop-in only the sandbox sees (its /etc/systemd/user): read where the manager reads it.
  mkdirSync(join(sandbox.dir, 'etc-systemd', 'user', 'uskip.service.d'), { recursive: true });
  writeFileSync(join(sandbox.dir, 'etc-systemd', 'user', 'uskip.service.d', 'restartd.conf'), '[Service]\nX-Restartd-Action=skip\n');
  // A system unit of the same name as the users' units: a user must never get it acted on.
  writeUnit(sandbox, 'ustale.service', { Service: ['Type=exec', `ExecStart=${bin('sysapp')} infinity`] });
  await systemctl(sandbox, 'daemon-reload');
  await systemctl(sandbox, 'start', 'ustale.service');
  writeUserUnit(alice, 'ustale.service', { Service: ['Type=exec', `ExecStart=${bin('app')} infinity`] });
  writeUserUnit(alice, 'uskip.service', { Service: ['Type=exec', `ExecStart=${bin('skipper')} infinity`] });
  writeUserUnit(alice, 'usteady.service', { Service: ['Type=exec', 'ExecStart=/bin/sleep infinity'] });
  writeUserUnit(bob, 'ustale.service', { Service: ['Type=exec', `ExecStart=${bin('bobapp')} infinity`] });
  for (const user of [alice, bob]) await startUserManager(sandbox, user);
  await userctl(sandbox, alice, 'start', 'ustale.service', 'uskip.service', 'usteady.service');
  await userctl(sandbox, bob, 'start', 'ustale.service');
  // bob points his bus at the system bus: his units must not reach the system manager through it.
  const r = await sandbox.exec(['setpriv', `--reuid=${bob.uid}`, `--regid=${bob.gid}`, '--init-groups', '--', 'sh', '-c',
    `cd /run/user/${bob.uid} && mv bus bus.real && ln -s ../../dbus/system_bus_socket bus`]);
  if (r.code !== 0) throw new Error(`could not repoint bob's bus: ${r.stderr}`);
  for (const name of ['app', 'skipper', 'bobapp']) upgrade(name);
}, 120_000);

afterAll(async () => {
  await sandbox?.stop();
  alice?.remove();
  bob?.remove();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe("users' own units through their own manager", { timeout: 180_000 }, () => {
  it('status finds the stale user units, owned by their user', async () => {
    const run = await runCli(['status', '--json', ...sandboxOnly()]);
    const report = JSON.parse(run.stdout) as StaleReport;
    const users = report.stale.filter((p) => p.owner.kind === 'user-unit').map((p) => `${p.owner.uid}:${p.owner.name}`).sort();
    expect(users).toEqual([`${alice.uid}:uskip.service`, `${alice.uid}:ustale.service`, `${bob.uid}:ustale.service`].sort());
    // By user: what happens to each unit, and whether the user's own manager answered.
    const byUser = (report as StaleReport & { users?: StatusUser[] }).users?.filter((u) => u.uid === alice.uid || u.uid === bob.uid);
    expect(byUser).toEqual([
      {
        uid: alice.uid, name: alice.name, manager: 'running', sessionApps: [],
        units: [expect.objectContaining({ unit: 'ustale.service', action: 'restart', fate: 'restart' }), expect.objectContaining({ unit: 'uskip.service', action: 'skip', fate: 'skip', reason: 'x-restartd-action-skip' })],
      },
      { uid: bob.uid, name: bob.name, manager: 'absent', managerReason: expect.stringMatching(/not that user's manager/), sessionApps: [], units: [expect.objectContaining({ unit: 'ustale.service', fate: 'skip', reason: 'user-manager-absent' })] },
    ].map((u) => ({ ...u, units: expect.arrayContaining(u.units) })));
    const text = await runCli(['status', ...sandboxOnly()]);
    expect(text.stdout).toContain(`${alice.name} (uid ${alice.uid}): manager running\n`);
    expect(text.stdout).toContain('uskip.service: skipped (x-restartd-action-skip)');
    expect(text.stdout).toContain('ustale.service: restarted through their manager');
  });

  it("plan asks each user's manager: a restart through it, X-Restartd-Action=skip honoured, a repointed bus refused", async () => {
    const run = await runCli(['plan', '--json', ...sandboxOnly()]);
    const report = JSON.parse(run.stdout) as { actions: PlannedAction[] };
    expect(actionsOf(report.actions, alice.uid)).toEqual([
      { unit: 'ustale.service', action: 'restart', reason: `default (through the user manager of uid ${alice.uid})` },
      { unit: 'uskip.service', action: 'skip', reason: 'x-restartd-action-skip' },
    ]);
    expect(actionsOf(report.actions, bob.uid)).toEqual([{ unit: 'ustale.service', action: 'skip', reason: 'user-manager-absent' }]);
    const bobs = report.actions.find((a) => a.owner.uid === bob.uid);
    expect(bobs?.detail).toMatch(/runs as uid 0, not \d+: not that user's manager/);
  });

  it('apply restarts the stale user unit once through its manager; the others stay as they are', async () => {
    const before = {
      stale: await userMainPid(sandbox, alice, 'ustale.service'),
      skip: await userMainPid(sandbox, alice, 'uskip.service'),
      steady: await userMainPid(sandbox, alice, 'usteady.service'),
      bob: await mainPidOfBob(),
      system: await mainPidOf(sandbox, 'ustale.service'),
    };
    const run = await runCli(['apply', '--json', ...sandboxOnly(), '--state-dir', stateDir]);
    expect(run.code).toBe(0);
    const outcomes = (JSON.parse(run.stdout) as { outcomes: Array<{ unit: string; owner: { uid?: number }; ok: boolean; action: string; mainPid?: { before: number; after: number } }> }).outcomes;
    const alicesRestart = outcomes.filter((o) => o.owner.uid === alice.uid && o.action === 'restart');
    expect(alicesRestart).toEqual([expect.objectContaining({ unit: 'ustale.service', ok: true, mainPid: { before: before.stale, after: expect.any(Number) } })]);
    const after = await userMainPid(sandbox, alice, 'ustale.service');
    expect(after).not.toBe(before.stale);
    expect(alicesRestart[0]?.mainPid?.after).toBe(after);
    expect(await userMainPid(sandbox, alice, 'uskip.service')).toBe(before.skip);
    expect(await userMainPid(sandbox, alice, 'usteady.service')).toBe(before.steady);
    expect(await mainPidOfBob()).toBe(before.bob);
    expect(await mainPidOf(sandbox, 'ustale.service')).toBe(before.system);
  });

  it('status afterwards: the restarted unit is clean, the skipped one is still listed', async () => {
    const run = await runCli(['status', '--json', ...sandboxOnly()]);
    const report = JSON.parse(run.stdout) as StaleReport;
    const alices = report.stale.filter((p) => p.owner.kind === 'user-unit' && p.owner.uid === alice.uid).map((p) => p.owner.name);
    expect(alices).toEqual(['uskip.service']);
  });

  it("the child runs as the user: uid, gid and groups of the user, a clean environment, the user's manager alone", async () => {
    const system = await connectSystemd({ busAddress: sandbox.busAddress });
    const users = createUserManagers({ system });
    try {
      const reached = await users.get(alice.uid);
      expect(reached).toMatchObject({ state: 'running', uid: alice.uid, name: alice.name });
      const child = childOf(alice.uid);
      const status = readFileSync(`/proc/${child}/status`, 'utf8');
      const ids = (key: string): string[] => (new RegExp(`^${key}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '').trim().split(/\s+/);
      expect(ids('Uid')).toEqual(Array(4).fill(String(alice.uid)));
      expect(ids('Gid')).toEqual(Array(4).fill(String(alice.gid)));
      const groups = execFileSync('id', ['-G', alice.name], { encoding: 'utf8' }).trim().split(' ').sort();
      expect(ids('Groups').sort()).toEqual(groups);
      expect(groups).toContain('100');
      const env = readFileSync(`/proc/${child}/environ`, 'utf8').split('\0').filter(Boolean).sort();
      expect(env).toEqual([`HOME=${alice.home}`, 'LANG=C.UTF-8', `LOGNAME=${alice.name}`, 'PATH=/usr/bin:/bin', `USER=${alice.name}`, `XDG_RUNTIME_DIR=/run/user/${alice.uid}`]);
      if (reached.state !== 'running') return;
      // The drop-in with X-Restartd-Action= is the sandbox's alone: read through the manager's root, not ours.
      const facts = await reached.manager.unitFacts('uskip.service');
      expect(facts).toMatchObject({ name: 'uskip.service', loadState: 'loaded', xRestartdAction: 'skip', dropInPaths: ['/etc/systemd/user/uskip.service.d/restartd.conf'] });
      expect(facts.fileWarnings).toBeUndefined();
      // root's uid 0 has no user manager here, whatever asks for it.
      expect(await users.get(0)).toMatchObject({ state: 'absent' });
    } finally {
      users.close();
      system.close();
    }
  });

  it("a changed user unit file: stopped, the user's manager reloaded, started with the new definition", async () => {
    upgrade('app');
    writeUserUnit(alice, 'ustale.service', { Service: ['Type=exec', `ExecStart=${bin('app')} infinity`, 'Environment=GENERATION=2'] });
    const before = await userMainPid(sandbox, alice, 'ustale.service');
    const run = await runCli(['apply', '--json', ...sandboxOnly(), '--state-dir', stateDir]);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { outcomes: Array<{ unit: string; owner: { uid?: number }; ok: boolean; action: string; phase: string }>; managerSteps: unknown[] };
    expect(report.managerSteps).toEqual([expect.objectContaining({ step: 'daemon-reload', uid: alice.uid, ok: true })]);
    const alices = report.outcomes.filter((o) => o.owner.uid === alice.uid && o.unit === 'ustale.service').map(({ action, phase, ok }) => ({ action, phase, ok }));
    expect(alices).toEqual([{ action: 'stop-start', phase: 'stop', ok: true }, { action: 'stop-start', phase: 'start', ok: true }]);
    expect(await userMainPid(sandbox, alice, 'ustale.service')).not.toBe(before);
    expect((await userctl(sandbox, alice, 'show', '-P', 'Environment', 'ustale.service')).trim()).toBe('GENERATION=2');
  });

  it('a stale user manager: apply re-executes it in place (same PID, fresh code), and status shows it clean', async () => {
    const unit = `user@${alice.uid}.service`;
    const managerPid = await mainPidOf(sandbox, unit);
    const hostPid = pidRunning(bin('systemd'), alice.uid);
    if (hostPid === undefined) throw new Error(`${unit} does not run ${bin('systemd')}`);
    upgrade('systemd', systemdBinary());
    const staleManager = async (): Promise<number[]> =>
      (JSON.parse((await runCli(['status', '--json', ...sandboxOnly()])).stdout) as StaleReport).stale.filter((p) => p.owner.name === unit).map((p) => p.pid);
    expect(await staleManager()).toEqual([hostPid]);
    const run = await runCli(['apply', '--json', ...sandboxOnly(), '--state-dir', stateDir]);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { outcomes: Array<{ unit: string; ok: boolean; action: string }>; managerSteps: unknown[] };
    expect(report.managerSteps).toEqual([expect.objectContaining({ step: 'daemon-reexec', uid: alice.uid, ok: true })]);
    expect(report.outcomes.filter((o) => o.unit === unit)).toEqual([expect.objectContaining({ action: 'daemon-reexec', ok: true })]);
    // The same process, on the installed systemd now (a re-exec runs systemd's own path), no old file mapped.
    expect(await mainPidOf(sandbox, unit)).toBe(managerPid);
    expect(readlinkSync(`/proc/${hostPid}/exe`)).toBe(realpathSync(systemdBinary()));
    expect(readFileSync(`/proc/${hostPid}/maps`, 'utf8')).not.toContain('(deleted)');
    expect(await staleManager()).toEqual([]);
    expect((await userctl(sandbox, alice, 'is-active', 'usteady.service')).trim()).toBe('active');
  });

  it("user@UID.service itself re-executes in place through the user's own manager", reexecutesInPlace);

  it('a stale app of a login session is left running, and its user told once on each terminal open to messages', async () => {
    const home = join(dir, 'alice');
    mkdirSync(home);
    chownSync(home, alice.uid, alice.gid);
    // Real ptys: script(1) run by alice, its shell running the app (a login session's program).
    const logins = ['sessapp', 'quietapp'].map((name) => {
      copyFileSync('/bin/sleep', bin(name));
      chmodSync(bin(name), 0o755);
      const log = join(home, `${name}.typescript`);
      const child = spawn('setpriv', [`--reuid=${alice.uid}`, `--regid=${alice.gid}`, '--init-groups', '--', 'env', '-i', `HOME=${home}`, 'PATH=/usr/bin:/bin',
        'script', '-qfec', `${bin(name)} infinity`, log], { stdio: ['pipe', 'ignore', 'ignore'] });
      return { name, log, child };
    });
    try {
      const apps: number[] = [];
      for (const { name } of logins) {
        let app: number | undefined;
        await pollUntil(() => (app = pidRunning(bin(name), alice.uid)) !== undefined, 30_000, 50);
        if (app === undefined) throw new Error(`${name} did not start`);
        apps.push(app);
      }
      const [app, quiet] = apps as [number, number];
      // Their login session, as logind would make it: a session scope in alice's slice.
      const scope = join(cgroup2Root(), sandbox.cgroupPrefix, 'user.slice', `user-${alice.uid}.slice`, 'session-t1.scope');
      mkdirSync(scope, { recursive: true });
      for (const pid of apps) writeFileSync(join(scope, 'cgroup.procs'), String(pid));
      // `mesg y` on the first terminal, `mesg n` on the other.
      chmodSync(readlinkSync(`/proc/${app}/fd/0`), 0o620);
      chmodSync(readlinkSync(`/proc/${quiet}/fd/0`), 0o600);
      upgrade('sessapp');
      upgrade('quietapp');
      const first = await runCli(['apply', ...sandboxOnly(), '--state-dir', stateDir]);
      expect(first.stdout).toMatch(new RegExp(`told ${alice.name} about \\d+ programs left running on /dev/pts/\\d+\n`));
      const log = logins[0]?.log ?? '';
      const told = (text: string): number => text.split(`quietapp (pid ${quiet}: `).length - 1;
      expect(await pollUntil(() => told(readFileSync(log, 'utf8')) === 1, 10_000, 50)).toBe(true);
      expect(readFileSync(log, 'utf8')).toMatch(new RegExp(`restartd: ${alice.name}, after the update .*old code: .*sessapp \\(pid ${app}: deleted ${bin('sessapp')}\\)`));
      expect(readFileSync(logins[1]?.log ?? '', 'utf8')).not.toContain('restartd:');
      const second = await runCli(['apply', ...sandboxOnly(), '--state-dir', stateDir]);
      expect(second.stdout).not.toContain(`told ${alice.name}`);
      expect(told(readFileSync(log, 'utf8'))).toBe(1);
      expect([pidRunning(bin('sessapp'), alice.uid), pidRunning(bin('quietapp'), alice.uid)]).toEqual(apps);
    } finally {
      for (const { name, child } of logins) {
        const pid = pidRunning(bin(name), alice.uid);
        if (pid !== undefined) process.kill(pid, 'SIGKILL');
        child.kill('SIGKILL');
      }
    }
  });

  it("a user with no user bus (as without dbus-user-session) is reached through the manager's private socket", async () => {
    upgrade('app');
    await userctl(sandbox, alice, 'stop', 'dbus.socket', 'dbus.service');
    // A bus socket nobody listens on gives way to the private socket.
    const plan = JSON.parse((await runCli(['plan', '--json', ...sandboxOnly()])).stdout) as { actions: PlannedAction[] };
    expect(actionsOf(plan.actions, alice.uid)).toContainEqual({ unit: 'ustale.service', action: 'restart', reason: `default (through the user manager of uid ${alice.uid})` });
    // No user bus at all (the runtime dir is a tmpfs of the sandbox's: removed in there).
    await sandboxRm(`/run/user/${alice.uid}/bus`);
    const before = await userMainPid(sandbox, alice, 'ustale.service');
    const run = await runCli(['apply', '--json', ...sandboxOnly(), '--state-dir', stateDir]);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { outcomes: Array<{ unit: string; owner: { uid?: number }; ok: boolean; action: string; mainPid?: { before: number; after: number } }> };
    const alices = report.outcomes.filter((o) => o.owner.uid === alice.uid && o.unit === 'ustale.service');
    expect(alices).toEqual([expect.objectContaining({ action: 'restart', ok: true, mainPid: { before, after: expect.any(Number) } })]);
    const after = await userMainPid(sandbox, alice, 'ustale.service');
    expect(after).not.toBe(before);
    expect(alices[0]?.mainPid?.after).toBe(after);
  });

  it('over the private socket too, user@UID.service re-executes in place (the connection it ends is made again)', reexecutesInPlace);

  it('a manager is absent by the facts: user@UID.service not running, or running with no socket to reach it by', async () => {
    const carol = createUser(`rdcarol${process.pid}`);
    const system = await connectSystemd({ busAddress: sandbox.busAddress });
    const users = createUserManagers({ system });
    try {
      expect(await users.get(carol.uid)).toEqual({
        state: 'absent', uid: carol.uid, name: carol.name, reason: `the user manager of ${carol.name} (uid ${carol.uid}) is not running: user@${carol.uid}.service is inactive (dead)`,
      });
      await sandboxRm(`/run/user/${alice.uid}/systemd/private`);
      const managerPid = await mainPidOf(sandbox, `user@${alice.uid}.service`);
      expect(await users.get(alice.uid)).toEqual({
        state: 'absent', uid: alice.uid, name: alice.name,
        reason: `the user manager of ${alice.name} (uid ${alice.uid}) has no way in (user@${alice.uid}.service is active, pid ${managerPid}): no /run/user/${alice.uid}/bus, and /run/user/${alice.uid}/systemd/private is missing`,
      });
    } finally {
      users.close();
      system.close();
      carol.remove();
    }
  });
});

/** daemon-reexec of alice's manager through her child: the same process, re-executed once more, its units still running. */
async function reexecutesInPlace(): Promise<void> {
  const system = await connectSystemd({ busAddress: sandbox.busAddress });
  const users = createUserManagers({ system });
  const managerPid = await mainPidOf(sandbox, `user@${alice.uid}.service`);
  const reexecs = async (): Promise<number> =>
    (await sandbox.exec(['journalctl', '--no-pager', '-o', 'cat', `_PID=${managerPid}`])).stdout.split('\n').filter((line) => /Reexecuting/.test(line)).length;
  const before = await reexecs();
  try {
    const action: PlannedAction = {
      owner: { kind: 'system-unit', name: `user@${alice.uid}.service` }, action: 'daemon-reexec', reason: 'test', pids: [], phase: 'daemon-reload', unit: `user@${alice.uid}.service`, userManager: { uid: alice.uid },
    };
    const report = await executePlan({ daemonReload: false, actions: [action] }, system, { userManagers: users, jobTimeoutMs: 60_000 });
    expect(report.outcomes).toEqual([expect.objectContaining({ ok: true, jobResult: 'done' })]);
    expect(report.managerSteps).toEqual([expect.objectContaining({ step: 'daemon-reexec', uid: alice.uid, ok: true })]);
    // The same process, re-executed: it says so in the sandbox's journal, and its units kept running.
    expect(await mainPidOf(sandbox, `user@${alice.uid}.service`)).toBe(managerPid);
    expect(await pollUntil(async () => (await reexecs()) === before + 1, 10_000, 100)).toBe(true);
    expect((await userctl(sandbox, alice, 'is-active', 'usteady.service')).trim()).toBe('active');
  } finally {
    users.close();
    system.close();
  }
}

async function sandboxRm(path: string): Promise<void> {
  const r = await sandbox.exec(['rm', path]);
  if (r.code !== 0) throw new Error(`rm ${path} in the sandbox: ${r.stderr}`);
}


/** The user manager child running as `uid` (host PID). */
function childOf(uid: number): number {
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      if (cmdline.includes('user-manager-child') && new RegExp(`^Uid:\\s+${uid}\\s`, 'm').test(status)) return Number(pid);
    } catch {
      // gone
    }
  }
  throw new Error(`no user manager child running as uid ${uid}`);
}

async function mainPidOfBob(): Promise<number> {
  const r = await sandbox.exec(['setpriv', `--reuid=${bob.uid}`, `--regid=${bob.gid}`, '--init-groups', '--', 'env', '-i',
    `XDG_RUNTIME_DIR=/run/user/${bob.uid}`, `DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/${bob.uid}/bus.real`, 'systemctl', '--user', 'show', '-P', 'MainPID', 'ustale.service']);
  return Number(r.stdout.trim());
}
