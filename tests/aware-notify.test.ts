import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createNotifier, listRegistrations } from '../src/aware/index.js';
import { registerUpdateAware, type UpdateAwareHandle, type UpdateInfo } from '../src/client.js';
import { executePlan } from '../src/execute/index.js';
import type { ExecuteEvents } from '../src/types/outcome.js';
import type { StaleProcess } from '../src/types/stale.js';
import type { Plan, PlannedAction } from '../src/types/plan.js';
import { parseStat } from '../src/scan/parse.js';
import type { SystemdManager } from '../src/types/systemd.js';

// The test process itself is the update-aware app: root, registering in a root-owned 0755 dir.
const me = process.pid;
const myStartTime = parseStat(readFileSync('/proc/self/stat', 'utf8'))?.startTime ?? -1;
const stale: StaleProcess = { pid: me, ppid: 1, startTime: myStartTime, uid: 0, comm: 'node', exe: '/usr/bin/node', owner: { kind: 'process', name: `pid:${me}` }, files: [{ path: '/srv/app/lib/handler.js', kind: 'changed', via: 'fd' }] };
const action: PlannedAction = { owner: stale.owner, action: 'notify', reason: 'a process outside any unit', pids: [me], phase: 'notify', unit: `pid:${me}` };

let tmp: string;
let n = 0;
const handles: UpdateAwareHandle[] = [];
const servers: Server[] = [];

function dirs(): { dir: string; stateDir: string } {
  const dir = join(tmp, `aware${n++}.d`);
  mkdirSync(dir, { mode: 0o755 });
  return { dir, stateDir: join(tmp, `state${n}`) };
}

function recordEvents(events: EventEmitter<ExecuteEvents>): string[] {
  const log: string[] = [];
  events.on('aware:delivered', (t, via) => log.push(`delivered ${t.name} ${via}`));
  events.on('aware:answered', (t, a) => log.push(`answered ${t.name} ${a.answer}`));
  events.on('aware:timeout', (t) => log.push(`timeout ${t.name}`));
  events.on('aware:fallback', (t, fallback) => log.push(`fallback ${t.name} ${fallback}`));
  events.on('aware:skipped', (file) => log.push(`skipped ${file}`));
  return log;
}

async function notifyWith(dir: string, stateDir: string) {
  const events = new EventEmitter<ExecuteEvents>();
  const log = recordEvents(events);
  const outcome = await createNotifier({ stale: [stale], oldGeneration: '/gen/41', newGeneration: '/gen/42', dirs: [dir], stateDir }, events)(action);
  return { outcome, log };
}

/** A hand-written socket app that answers each update with `reply` (or nothing). */
async function rawApp(dir: string, reply: string | undefined, extra: object = {}): Promise<void> {
  const path = join(dir, 'raw.sock');
  const server = createServer((socket: Socket) => {
    // restartd hangs up on an oversized answer: a reset here is expected.
    socket.on('error', () => undefined);
    socket.once('data', () => reply !== undefined && socket.write(reply));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(path, resolve));
  writeFileSync(join(dir, 'raw.json'), JSON.stringify({ version: 1, name: 'raw', pid: me, startTime: myStartTime, notify: { kind: 'socket', path }, ackTimeoutMs: 300, ...extra }));
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'restartd-aware-notify-'));
});
afterEach(async () => {
  for (const handle of handles.splice(0)) await handle.close();
  for (const server of servers.splice(0)) server.close();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('notifying a registered app over its socket', () => {
  it('delivers the update, gets "handled", remembers both for status', async () => {
    const { dir, stateDir } = dirs();
    const updates: UpdateInfo[] = [];
    handles.push(await registerUpdateAware({ name: 'web', dir, onUpdate: (update) => void updates.push(update) }));
    const { outcome, log } = await notifyWith(dir, stateDir);
    expect(updates).toEqual([{ oldGeneration: '/gen/41', newGeneration: '/gen/42', files: ['/srv/app/lib/handler.js'] }]);
    expect(log).toEqual(['delivered web socket', 'answered web handled']);
    expect(outcome).toMatchObject({ ok: true, action: 'notify', jobResult: 'not-run', notified: [{ pid: me, name: 'web', via: 'socket', result: 'handled', restartNeeded: false }] });
    expect(outcome?.code).toBeUndefined();
    const [status] = await listRegistrations(dir, { stateDir });
    expect(status).toMatchObject({ name: 'web', pid: me, via: 'socket', valid: true, alive: true, lastNotification: { oldGeneration: '/gen/41', newGeneration: '/gen/42', files: 1 }, lastAnswer: { result: 'handled' } });
  });

  it('"restart-me" (or a throwing onUpdate) applies the fallback: the owner must be restarted', async () => {
    const { dir, stateDir } = dirs();
    handles.push(await registerUpdateAware({ name: 'stubborn', dir, onUpdate: () => { throw new Error('cannot reload the TLS stack'); } }));
    const { outcome, log } = await notifyWith(dir, stateDir);
    expect(log).toEqual(['delivered stubborn socket', 'answered stubborn restart-me', 'fallback stubborn restart']);
    expect(outcome).toMatchObject({ ok: false, code: 'RESTART_NEEDED', cause: `pid:${me} must be restarted: stubborn (pid ${me}): the app asked to be restarted`, notified: [{ result: 'restart-me', fallback: 'restart', restartNeeded: true, answer: { message: 'cannot reload the TLS stack' } }] });
  });

  it('"ignored" is fine; fallback none leaves a restart-me alone', async () => {
    const { dir, stateDir } = dirs();
    handles.push(await registerUpdateAware({ name: 'calm', dir, fallback: 'none', onUpdate: () => 'restart-me' }));
    expect((await notifyWith(dir, stateDir)).outcome).toMatchObject({ ok: true, notified: [{ result: 'restart-me', fallback: 'none', restartNeeded: false }] });
  });

  it.each([
    ['no answer', undefined, { fallback: 'restart' }, 'timeout', 'RESTART_NEEDED', 'no answer within 300 ms'],
    ['no answer, fallback none', undefined, { fallback: 'none' }, 'timeout', 'NOTIFY_FAILED', 'no answer within 300 ms'],
    ['oversized answer', `${'x'.repeat(5000)}\n`, {}, 'failed', 'RESTART_NEEDED', 'answer larger than 4096 bytes'],
    ['oversized answer without a newline', 'x'.repeat(70_000), {}, 'failed', 'RESTART_NEEDED', 'answer larger than 4096 bytes'],
    ['malformed answer', '{"type":"ack","answer":"sure"}\n', {}, 'failed', 'RESTART_NEEDED', 'malformed answer: answer: expected one of handled, restart-me, ignored, got "sure"'],
    ['extra key in the answer', '{"type":"ack","answer":"handled","run":"rm -rf /"}\n', {}, 'failed', 'RESTART_NEEDED', 'malformed answer: run: unknown key'],
    ['not JSON', 'handled\n', { fallback: 'none' }, 'failed', 'NOTIFY_FAILED', 'the answer is not valid JSON'],
  ])('%s', async (_name, reply, extra, result, code, reason) => {
    const { dir, stateDir } = dirs();
    await rawApp(dir, reply, extra);
    const { outcome } = await notifyWith(dir, stateDir);
    expect(outcome).toMatchObject({ ok: false, code, notified: [{ name: 'raw', result, reason }] });
  });

  it("a registration's 10-minute ackTimeoutMs is cut to the run's limit (limits.ackTimeoutMaxMs)", async () => {
    const { dir, stateDir } = dirs();
    await rawApp(dir, undefined, { fallback: 'none', ackTimeoutMs: 600_000 });
    const events = new EventEmitter<ExecuteEvents>();
    const outcome = await createNotifier({ stale: [stale], oldGeneration: '/gen/41', newGeneration: '/gen/42', dirs: [dir], stateDir, maxAckTimeoutMs: 400 }, events)(action);
    expect(outcome).toMatchObject({ ok: false, code: 'NOTIFY_FAILED', notified: [{ name: 'raw', result: 'timeout', reason: 'no answer within 400 ms' }] });
  });

  it('a paths filter that no stale file is under: not told', async () => {
    const { dir, stateDir } = dirs();
    const updates: UpdateInfo[] = [];
    handles.push(await registerUpdateAware({ name: 'picky', dir, paths: ['/srv/other'], onUpdate: (u) => void updates.push(u) }));
    expect((await notifyWith(dir, stateDir)).outcome).toMatchObject({ ok: true, notified: [{ result: 'not-concerned' }] });
    expect(updates).toEqual([]);
  });

  it('no registration: the notifier has nothing to say', async () => {
    const { dir, stateDir } = dirs();
    expect((await notifyWith(dir, stateDir)).outcome).toBeUndefined();
  });
});

describe("the executor's notify phase", () => {
  it('turns a notify action into a notification; unregistered processes keep NOTIFY_UNAVAILABLE', async () => {
    const { dir, stateDir } = dirs();
    handles.push(await registerUpdateAware({ name: 'web', dir, onUpdate: () => 'handled' }));
    const other: PlannedAction = { owner: { kind: 'process', name: 'pid:999999' }, action: 'notify', reason: 'test', pids: [999999], phase: 'notify', unit: 'pid:999999' };
    const plan: Plan = { daemonReload: false, actions: [action, other] };
    const events = new EventEmitter<ExecuteEvents>();
    const log = recordEvents(events);
    const notifier = createNotifier({ stale: [stale], oldGeneration: '/gen/41', newGeneration: '/gen/42', dirs: [dir], stateDir }, events);
    const report = await executePlan(plan, {} as SystemdManager, { notifier }, events);
    expect(log).toEqual(['delivered web socket', 'answered web handled']);
    expect(report.outcomes).toMatchObject([
      { unit: `pid:${me}`, ok: true, notified: [{ result: 'handled' }] },
      { unit: 'pid:999999', ok: false, code: 'NOTIFY_UNAVAILABLE' },
    ]);
    const dry = await executePlan(plan, {} as SystemdManager, { notifier, dryRun: true }, events);
    expect(dry.outcomes.map((o) => [o.dryRun, o.code])).toEqual([[true, 'NOTIFY_UNAVAILABLE'], [true, 'NOTIFY_UNAVAILABLE']]);
  });
});
