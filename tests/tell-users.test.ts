import { appendFileSync, chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRestartd } from '../src/restartd.js';
import { writeToTerminals } from '../src/aware/user-terminals.js';
import { readKernelFacts } from '../src/status/kernel-facts.js';
import { decideReboot } from '../src/status/reboot-tier.js';
import type { UserNotice } from '../src/types/aware.js';
import type { StatusUser } from '../src/types/status.js';
import { runCli } from './support/cli.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { createUser, installUserManagerUnits, pidRunning, startUserManager, userctl, writeUserUnit, type TestUser } from './support/systemd/user-manager.js';
import { pollUntil } from './support/systemd/proc-identity.js';
import { cgroup2Root } from './support/systemd/tree.js';

// Telling a logged-in user about their programs restartd leaves running, on real parts: a real
// notification server (dunst under Xvfb, both the user's own units) on the user's session bus in the
// systemd sandbox, and a real pty login (login(1) under script(1), registered in the sandbox's utmp).
// Only the test user's processes are in the sandbox manager's tree: no other terminal is written to.
let sandbox: SystemdSandbox;
let carol: TestUser;
let dir: string;
let stateDir: string;
let login: { child: ChildProcess; log: string; tty: string };
let app: { pid: number; shell: ChildProcess };

const bin = (name: string): string => join(dir, 'bin', name);
const gen = (n: number): string => join(dir, 'generations', `g${n}`);
let builds = 0;
/** A new build renamed over the old one: the running app now maps a deleted file. */
const upgrade = (): void => {
  copyFileSync('/bin/sleep', `${bin('tellapp')}.new`);
  appendFileSync(`${bin('tellapp')}.new`, `\nrestartd-test build ${++builds}\n`);
  chmodSync(`${bin('tellapp')}.new`, 0o755);
  renameSync(`${bin('tellapp')}.new`, bin('tellapp'));
};
const sandboxOnly = (): string[] => ['--bus', sandbox.busAddress, '--state-dir', stateDir];

/** Runs a command as carol inside the sandbox, with her session bus. */
async function asCarol(cmd: string[]): Promise<string> {
  const r = await sandbox.exec(['setpriv', `--reuid=${carol.uid}`, `--regid=${carol.gid}`, '--init-groups', '--', 'env', '-i',
    `XDG_RUNTIME_DIR=/run/user/${carol.uid}`, `DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/${carol.uid}/bus`, 'PATH=/usr/bin:/bin', ...cmd]);
  if (r.code !== 0) throw new Error(`${cmd.join(' ')} as ${carol.name}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Every notification dunst received from restartd so far (shown ones are closed into its history first). */
async function notifications(): Promise<Array<{ summary: string; body: string }>> {
  await asCarol(['dunstctl', 'close-all']);
  const history = JSON.parse(await asCarol(['dunstctl', 'history'])) as { data: Array<Array<Record<string, { data: unknown }>>> };
  return (history.data[0] ?? [])
    .filter((n) => n['appname']?.data === 'restartd')
    .map((n) => ({ summary: String(n['summary']?.data), body: String(n['body']?.data) }));
}

/** The lines restartd wrote on the login's terminal (script(1) logs everything the pty shows). */
const told = (): string[] => readFileSync(login.log, 'utf8').split(/\r*\n/).filter((line) => line.startsWith('restartd: '));

beforeAll(async () => {
  sandbox = await startSystemd({ label: 'tell' });
  carol = createUser(`rdcarol${process.pid}`);
  dir = mkdtempSync('/srv/restartd-test-tell-');
  stateDir = join(dir, 'state');
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'bin'));
  for (let n = 1; n <= 7; n++) {
    mkdirSync(gen(n), { recursive: true });
    writeFileSync(join(gen(n), 'version'), `${n}\n`);
  }
  installUserManagerUnits(sandbox);
  await startUserManager(sandbox, carol);
  // Her notification server: dunst on her session bus, on a virtual X display, as units of her own manager.
  const display = `:${100 + (process.pid % 800)}`;
  const rc = join(carol.home, '.config', 'dunst');
  mkdirSync(rc, { recursive: true });
  // Each notification counts: identical ones are not stacked into one.
  writeFileSync(join(rc, 'dunstrc'), '[global]\n    stack_duplicates = false\n    history_length = 100\n');
  writeUserUnit(carol, 'xvfb.service', { Service: ['Type=simple', `ExecStart=/usr/bin/Xvfb ${display} -nolisten tcp -screen 0 640x480x24`] });
  writeUserUnit(carol, 'dunst.service', {
    Unit: ['Requires=xvfb.service', 'After=xvfb.service'],
    Service: ['Type=dbus', 'BusName=org.freedesktop.Notifications', `Environment=DISPLAY=${display}`, 'ExecStartPre=/bin/sleep 1', 'ExecStart=/usr/bin/dunst'],
  });
  chownSync(rc, carol.uid, carol.gid);
  chownSync(join(rc, 'dunstrc'), carol.uid, carol.gid);
  await userctl(sandbox, carol, 'daemon-reload');
  await userctl(sandbox, carol, 'start', 'dunst.service');
  // A login on a pty of the sandbox: login(1) registers it in utmp (created as systemd-tmpfiles would).
  const utmp = await sandbox.exec(['install', '-m', '664', '-o', 'root', '-g', 'utmp', '/dev/null', '/run/utmp']);
  if (utmp.code !== 0) throw new Error(`no utmp: ${utmp.stderr}`);
  const log = join(dir, 'login.typescript');
  const child = spawn('nsenter', ['--target', String(sandbox.hostPid), '--pid', '--mount', '--uts', '--ipc', '--cgroup', '--',
    'env', '-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=dumb', 'script', '-qfc', `login -f ${carol.name}`, log], { stdio: ['pipe', 'ignore', 'ignore'] });
  login = { child, log, tty: '' };
  if (!(await pollUntil(() => /\$ $/.test(readLog(log)), 30_000, 100))) throw new Error(`no login shell: ${readLog(log)}`);
  // login(1) leaves the tty closed to messages (TTYPERM 0600): she opens it, as `mesg y` does.
  child.stdin?.write('mesg y; echo "READY on $(tty)"\n');
  if (!(await pollUntil(() => /READY on \/dev\/pts\/\d+\r\n/.test(readLog(log)), 30_000, 100))) throw new Error('mesg y did not run');
  login.tty = /READY on (\/dev\/pts\/\d+)\r\n/.exec(readLog(log))?.[1] ?? '';
  // Her stale program: no terminal of its own, not a session leader, in a login session of hers.
  copyFileSync('/bin/sleep', bin('tellapp'));
  chmodSync(bin('tellapp'), 0o755);
  const shell = spawn('setpriv', [`--reuid=${carol.uid}`, `--regid=${carol.gid}`, '--init-groups', '--', 'setsid', 'sh', '-c', `${bin('tellapp')} infinity & wait`], { stdio: 'ignore' });
  let pid: number | undefined;
  await pollUntil(() => (pid = pidRunning(bin('tellapp'), carol.uid)) !== undefined, 30_000, 50);
  if (pid === undefined || shell.pid === undefined) throw new Error('tellapp did not start');
  app = { pid, shell };
  const scope = join(cgroup2Root(), sandbox.cgroupPrefix, 'user.slice', `user-${carol.uid}.slice`, 'session-c1.scope');
  mkdirSync(scope, { recursive: true });
  for (const p of [shell.pid, pid]) writeFileSync(join(scope, 'cgroup.procs'), String(p));
  upgrade();
}, 180_000);

afterAll(async () => {
  if (app !== undefined) {
    process.kill(app.pid, 'SIGKILL');
    app.shell.kill('SIGKILL');
  }
  login?.child.kill('SIGKILL');
  await sandbox?.stop();
  carol?.remove();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('a logged-in user is told once per switch about what stays running', { timeout: 180_000 }, () => {
  it('one desktop notification and one line on her login terminal; the program keeps running', async () => {
    const run = await runCli(['apply', '--old', gen(1), '--new', gen(2), ...sandboxOnly()]);
    expect(run.code).not.toBe(5);
    expect(run.stdout).toMatch(new RegExp(`told ${carol.name} about 1 program left running on /dev/pts/\\d+ and by a desktop notification\n`));
    // The advice follows the reboot tier: a newer kernel installed on this machine than the one running asks for a reboot.
    const reboot = decideReboot([], await readKernelFacts()).tier === 'reboot';
    const advice = reboot ? 'Please save your work: this system needs a reboot to run the new version.' : 'Please restart tellapp.';
    const line = `restartd: ${carol.name}, after the update 1 of your programs still runs old code: tellapp (pid ${app.pid}: deleted ${bin('tellapp')}). ${advice}`;
    expect(await pollUntil(() => told().length === 1, 10_000, 50)).toBe(true);
    expect(told()).toEqual([line]);
    expect(await notifications()).toEqual([{ summary: reboot ? 'Reboot needed after an update' : 'Restart tellapp after an update', body: line.replace('restartd: ', '') }]);
    expect(pidRunning(bin('tellapp'), carol.uid)).toBe(app.pid);
  });

  it('a re-run and a repeated hook of the same switch tell nobody again', async () => {
    const again = await runCli(['apply', '--old', gen(1), '--new', gen(2), ...sandboxOnly()]);
    expect(again.stdout).not.toContain(`told ${carol.name}`);
    const hook = await runCli(['hook', '--old', gen(1), '--new', gen(2), '--foreground', ...sandboxOnly()]);
    // The hook knows the switch was carried out: it runs nothing, so it tells nothing.
    expect(hook.code).toBe(0);
    expect(hook.stdout).toContain('was carried out at');
    expect(hook.stdout).not.toContain(`told ${carol.name}`);
    expect(told()).toHaveLength(1);
    expect(await notifications()).toHaveLength(1);
  });

  it('status shows what she was told for the last switch: when and where', async () => {
    const run = await runCli(['status', '--json', ...sandboxOnly()]);
    const users = (JSON.parse(run.stdout) as { users?: StatusUser[] }).users ?? [];
    const hers = users.find((u) => u.uid === carol.uid);
    expect(hers?.sessionApps).toEqual([expect.objectContaining({ pid: app.pid, fate: 'leave-running' })]);
    expect(hers?.notified).toEqual({ at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), channels: ['desktop', 'terminal'], old: gen(1), new: gen(2), text: expect.stringContaining(`tellapp (pid ${app.pid}`) });
    const text = await runCli(['status', ...sandboxOnly()]);
    expect(text.stdout).toMatch(new RegExp(`  told \\S+ by desktop and terminal, for ${gen(1)} -> ${gen(2)}\n`));
  });

  it('notify.desktop false: the next switch reaches her terminal alone; the library emits user:notified with the text', async () => {
    upgrade();
    const restartd = createRestartd({ busAddress: sandbox.busAddress, stateDir });
    const notices: UserNotice[] = [];
    restartd.on('user:notified', (notice) => notices.push(notice));
    const result = await restartd.apply({ old: gen(2), new: gen(3), config: { version: 1, units: [], protect: [], unprotect: [], jobTimeoutSeconds: 60, settleSeconds: 1, concurrency: 2, notify: { desktop: false, terminal: true } } });
    expect(result.kind).toBe('done');
    expect(notices.filter((n) => n.uid === carol.uid)).toEqual([
      expect.objectContaining({ uid: carol.uid, name: carol.name, channels: ['terminal'], text: expect.stringContaining(`tellapp (pid ${app.pid}`), pids: [app.pid] }),
    ]);
    expect(await pollUntil(() => told().length === 2, 10_000, 50)).toBe(true);
    expect(await notifications()).toHaveLength(1);
  });

  it('notify.terminal false: the next switch is a desktop notification alone', async () => {
    upgrade();
    const config = join(dir, 'desktop-only.json');
    writeFileSync(config, JSON.stringify({ version: 1, notify: { terminal: false } }));
    const run = await runCli(['apply', '--old', gen(3), '--new', gen(4), '--config', config, ...sandboxOnly()]);
    expect(run.stdout).toMatch(new RegExp(`told ${carol.name} about 1 program left running by a desktop notification\n`));
    expect(await notifications()).toHaveLength(2);
    expect(told()).toHaveLength(2);
  });

  it('without a notification server on her bus: a warning, not a failure; her terminal is still told', async () => {
    // Stopped and masked (its file removed first: the mask takes its place), or the bus would start it again for the call (D-Bus activation).
    await userctl(sandbox, carol, 'stop', 'dunst.service');
    rmSync(join(carol.home, '.config', 'systemd', 'user', 'dunst.service'));
    await userctl(sandbox, carol, 'mask', 'dunst.service');
    upgrade();
    const run = await runCli(['apply', '--old', gen(4), '--new', gen(5), ...sandboxOnly()]);
    expect(run.code).not.toBe(5);
    expect(run.stderr).toMatch(new RegExp(`no desktop notification for ${carol.name} \\(uid ${carol.uid}\\): Notify on /run/user/${carol.uid}/bus: .*masked`));
    expect(run.stdout).toMatch(new RegExp(`told ${carol.name} about 1 program left running on /dev/pts/\\d+\n`));
    expect(await pollUntil(() => told().length === 3, 10_000, 50)).toBe(true);
  });

  it("only her own tty, reached without a link: not for another uid, not through a symlink, not a file named like it", async () => {
    const path = `/proc/${sandbox.hostPid}/root${login.tty}`;
    const link = join(dir, 'pts-link');
    symlinkSync(path, link);
    const fake = join(dir, 'pts-file');
    writeFileSync(fake, '');
    chownSync(fake, carol.uid, carol.gid);
    chmodSync(fake, 0o620);
    const candidate = (p: string) => ({ path: p, name: login.tty });
    expect(writeToTerminals([candidate(path)], carol.uid + 1, 'restartd: not hers\r\n')).toEqual([]);
    expect(writeToTerminals([candidate(link), candidate(fake)], carol.uid, 'restartd: through a link\r\n')).toEqual([]);
    expect(readFileSync(fake, 'utf8')).toBe('');
    // The control: her tty itself, named twice, is written to once.
    expect(writeToTerminals([candidate(path), candidate(path)], carol.uid, 'a line for carol\r\n')).toEqual([login.tty]);
    expect(await pollUntil(() => readLog(login.log).split('a line for carol').length === 2, 10_000, 50)).toBe(true);
    expect(told()).toHaveLength(3);
  });

  it("logind's session records name her terminal too (utmp emptied): one line again for the next switch", async () => {
    // As systemd-logind records a session (its tty without /dev/), in the sandbox's /run.
    writeFileSync(join(sandbox.dir, 'run', 'utmp'), '');
    const sessions = join(sandbox.dir, 'run', 'systemd', 'sessions');
    mkdirSync(sessions, { recursive: true });
    writeFileSync(join(sessions, 'c1'), `# This is private data. Do not parse.\nUID=${carol.uid}\nUSER=${carol.name}\nACTIVE=1\nTYPE=tty\nSCOPE=session-c1.scope\nTTY=${login.tty.replace('/dev/', '')}\n`);
    upgrade();
    const run = await runCli(['apply', '--old', gen(6), '--new', gen(7), ...sandboxOnly()]);
    expect(run.stdout).toMatch(new RegExp(`told ${carol.name} about 1 program left running on ${login.tty}\n`));
    expect(await pollUntil(() => told().length === 4, 10_000, 50)).toBe(true);
  });

  it('a tty closed to messages (mesg n) is not written to', async () => {
    login.child.stdin?.write('mesg n; echo QUIET\n');
    expect(await pollUntil(() => readLog(login.log).includes('QUIET\r\n'), 30_000, 100)).toBe(true);
    upgrade();
    const run = await runCli(['apply', '--old', gen(7), '--new', gen(1), ...sandboxOnly()]);
    expect(run.stdout).toMatch(new RegExp(`told ${carol.name} about 1 program left running \\(no terminal or desktop reached\\)\n`));
    expect(told()).toHaveLength(4);
  });
});

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
