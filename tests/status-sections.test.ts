import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStatus, type StatusCommandArgs } from '../src/cli/status-command.js';
import type { Outcome } from '../src/types/outcome.js';
import { SwitchJournal } from '../src/journal/switch-journal.js';
import type { PlannedAction } from '../src/types/plan.js';
import type { StatusReport } from '../src/report/status-json.js';
import { createProgress } from '../src/status/progress.js';
import { mapsLine, ProcFixture } from './support/proc-fixture.js';

let tmp: string;
let fixture: ProcFixture;
let base: StatusCommandArgs;

const unitOwner = (name: string) => ({ kind: 'system-unit' as const, name, cgroup: `/system.slice/${name}` });

/** A machine with one stale unit and one stale user process, a journal with a finished run, and two registrations. */
beforeAll(() => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), 'restartd-status-sections-')));
  fixture = new ProcFixture();
  const ssl = fixture.file('/usr/lib/x86_64-linux-gnu/libssl.so.3', 'new libssl');
  const oldSsl = mapsLine('3000-4000', 'r-xp', ssl.ino + 100000, ssl.path);
  fixture.add({ pid: 733, comm: 'nginx', exe: '/usr/sbin/nginx', maps: oldSsl, cgroup: '0::/system.slice/nginx.service\n' });
  fixture.add({ pid: 900, comm: 'appd', exe: '/usr/bin/appd', maps: oldSsl, uid: 0, startTime: 5555, cgroup: '0::/user.slice/user-0.slice/session-3.scope\n' });

  const stateDir = join(tmp, 'state');
  const action = (unit: string): PlannedAction => ({ owner: unitOwner(unit), action: 'restart', reason: 'stale', pids: [1], phase: 'restart', unit });
  const done = (a: PlannedAction, ok: boolean): Outcome => ({
    unit: a.unit ?? a.owner.name, owner: a.owner, action: a.action, phase: a.phase, reason: a.reason, ok, jobResult: ok ? 'done' : 'failed', durationMs: 5, pids: a.pids,
    ...(ok ? {} : { code: 'JOB_FAILED' as const, cause: 'ExecStart failed' }),
  });
  const journal = new SwitchJournal(stateDir, '/srv/app/releases/v1', '/srv/app/releases/v2');
  const plan = { daemonReload: false, actions: [action('api.service'), action('worker.service')] };
  journal.begin(plan);
  journal.record(done(plan.actions[0] as PlannedAction, true));
  journal.record(done(plan.actions[1] as PlannedAction, false));
  journal.finish([]);

  const awareDir = join(tmp, 'aware.d');
  mkdirSync(awareDir, { mode: 0o755 });
  writeFileSync(join(awareDir, 'appd.json'), JSON.stringify({ version: 1, name: 'appd', pid: 900, startTime: 5555, notify: { kind: 'signal', signal: 'SIGHUP' } }), { mode: 0o644 });
  writeFileSync(join(awareDir, 'broken.json'), '{"version":1,"name":"x"', { mode: 0o644 });

  base = {
    json: true, procRoot: fixture.proc, modulesDirs: [], generations: [], colour: false,
    bus: `unix:path=${join(tmp, 'no-bus')}`, stateDir, awareDirs: [awareDir], awareStateDir: join(tmp, 'aware-state'),
  };
});
afterAll(() => {
  fixture.remove();
  rmSync(tmp, { recursive: true, force: true });
});

async function status(args: Partial<StatusCommandArgs> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runStatus({ ...base, ...args }, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out: out.replaceAll(tmp, '<tmp>'), err };
}

describe('restartd status: actions, registrations, last runs', () => {
  it('JSON carries the action the policy would take per owner, the registrations and the last runs', async () => {
    const { code, out, err } = await status();
    const report = JSON.parse(out) as StatusReport;
    expect(code).toBe(1);
    expect(report.actions?.map((a) => [a.owner.name, a.action])).toEqual(expect.arrayContaining([['nginx.service', 'skip'], ['session-3.scope', 'notify']]));
    // No bus: the unit cannot be described, so it is left alone (status keeps stderr quiet about it).
    expect(report.actions?.find((a) => a.owner.name === 'nginx.service')).toMatchObject({ action: 'skip', reason: 'unit-unknown' });
    expect(err).toBe('');
    expect(report.registrations).toEqual([
      expect.objectContaining({ file: expect.stringContaining('appd.json'), name: 'appd', pid: 900, via: 'signal', valid: true, alive: true }),
      expect.objectContaining({ file: expect.stringContaining('broken.json'), valid: false, alive: false, problem: expect.any(String) }),
    ]);
    expect(report.lastRuns).toEqual([
      expect.objectContaining({
        old: '/srv/app/releases/v1', new: '/srv/app/releases/v2', state: 'finished',
        done: [expect.objectContaining({ unit: 'api.service' })],
        failed: [expect.objectContaining({ unit: 'worker.service', code: 'JOB_FAILED' })],
      }),
    ]);
  });

  it('the human report shows both sections, then the stale processes and what would be done', async () => {
    const { out } = await status({ json: false });
    expect(out).toMatch(/update-aware apps: 1 registered, 1 ignored\n {2}pid 900 appd \(signal\) alive\n {2}<tmp>\/aware\.d\/broken\.json: ignored: /);
    expect(out).toMatch(/last runs: 1\n {2}\S+ finished: \/srv\/app\/releases\/v1 -> \/srv\/app\/releases\/v2\n {4}done: api\.service \(restart\)\n {4}failed: worker\.service \(restart: JOB_FAILED\)\n/);
    expect(out.indexOf('last runs:')).toBeLessThan(out.indexOf('nginx.service (system-unit)'));
    expect(out).toContain('would');
  });

  it('an empty state dir and no registrations say so', async () => {
    const empty = join(tmp, 'empty');
    mkdirSync(empty, { recursive: true, mode: 0o755 });
    const { out } = await status({ json: false, stateDir: join(tmp, 'none'), awareDirs: [empty] });
    expect(out).toContain('update-aware apps: 0 registered\n  none\n');
    expect(out).toContain('last runs: 0\n  none recorded\n');
  });
});

describe('progress on a terminal', () => {
  it('draws nothing off a terminal, and on one only after the delay; done() clears the line', async () => {
    let piped = '';
    const quiet = createProgress({ isTTY: false, write: (t: string) => (piped += t) }, { delayMs: 0, intervalMs: 5 });
    quiet.phase('scanning processes');
    await new Promise((r) => setTimeout(r, 30));
    quiet.done();
    expect(piped).toBe('');

    let tty = '';
    const fast = createProgress({ isTTY: true, write: (t: string) => (tty += t) }, { delayMs: 1000 });
    fast.phase('scanning processes');
    fast.done();
    expect(tty).toBe('');

    const slow = createProgress({ isTTY: true, write: (t: string) => (tty += t) }, { delayMs: 0, intervalMs: 5 });
    slow.phase('measuring generations');
    await new Promise((r) => setTimeout(r, 40));
    slow.done();
    expect(tty).toMatch(/^\r\x1b\[K. measuring generations \(\d+\.\d s\)/);
    expect(tty.endsWith('\r\x1b[K')).toBe(true);
    const length = tty.length;
    slow.phase('later');
    expect(tty.length).toBe(length);
  });
});
