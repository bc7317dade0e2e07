import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotifier } from '../src/aware/index.js';
import type { StaleProcess } from '../src/types/stale.js';
import type { PlannedAction } from '../src/types/plan.js';
import { parseStat } from '../src/scan/parse.js';

// The examples run as shipped: the app imports `restartd/client` (the built package, npm run build first).
let tmp: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'restartd-aware-examples-'));
});
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

const startTimeOf = (pid: number): number => parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.startTime ?? -1;

function run(command: string, args: string[], env: Record<string, string>): { child: ChildProcess; waitFor: (text: string) => Promise<string>; output: () => string } {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let out = '';
  const waiters: (() => void)[] = [];
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    for (const waiter of waiters) waiter();
  });
  const waitFor = (text: string): Promise<string> =>
    new Promise((resolveWait, reject) => {
      const check = (): void => void (out.includes(text) && resolveWait(out));
      waiters.push(check);
      child.once('close', () => reject(new Error(`exited before printing ${text}: ${out}`)));
      check();
    });
  return { child, waitFor, output: () => out };
}

/** The coordinator, as apply runs it, for one process holding `files`. */
async function notifyProcess(pid: number, dir: string, files: string[]) {
  const stale: StaleProcess = { pid, ppid: process.pid, startTime: startTimeOf(pid), uid: 0, comm: 'app', exe: process.execPath, owner: { kind: 'process', name: `pid:${pid}` }, files: files.map((path) => ({ path, kind: 'changed' as const, via: 'fd' as const })) };
  const action: PlannedAction = { owner: stale.owner, action: 'notify', reason: 'a process outside any unit', pids: [pid], phase: 'notify', unit: `pid:${pid}` };
  return createNotifier({ stale: [stale], oldGeneration: '/gen/1', newGeneration: '/gen/2', dirs: [dir], stateDir: join(tmp, 'state') })(action);
}

function fetchText(port: number): Promise<string> {
  return new Promise((resolveFetch, reject) => {
    get({ host: '127.0.0.1', port, path: '/', agent: false }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolveFetch(body));
    }).on('error', reject);
  });
}

describe('examples/update-aware-app', () => {
  it('keeps its PID and its port across a switch, and serves the new code afterwards', async () => {
    const handler = join(tmp, 'handler.mjs');
    const dir = join(tmp, 'app-aware.d');
    copyFileSync(resolve('examples/update-aware-app/handler.mjs'), handler);
    const app = run(process.execPath, [resolve('examples/update-aware-app/server.mjs')], { PORT: '0', HANDLER: handler, RESTARTD_AWARE_DIR: dir });
    const ready = JSON.parse((await app.waitFor('"ready"')).trim().split('\n').pop() ?? '{}') as { pid: number; port: number };
    expect(ready.pid).toBe(app.child.pid);
    const startTime = startTimeOf(ready.pid);
    expect(await fetchText(ready.port)).toBe('hello from v1\n');

    // Requests keep coming while the switch happens; none may fail.
    let answering = true;
    const answers: string[] = [];
    const traffic = (async () => {
      while (answering) answers.push(await fetchText(ready.port));
    })();
    writeFileSync(handler, "export default (request, response) => response.end('hello from v2\\n');\n");
    const outcome = await notifyProcess(ready.pid, dir, [handler]);
    await new Promise((r) => setTimeout(r, 100));
    answering = false;
    await traffic;

    expect(outcome).toMatchObject({ ok: true, notified: [{ name: 'update-aware-app', via: 'socket', result: 'handled' }] });
    expect(await fetchText(ready.port)).toBe('hello from v2\n');
    expect(startTimeOf(ready.pid)).toBe(startTime);
    expect(answers.length).toBeGreaterThan(0);
    expect(new Set(answers)).toEqual(new Set(answers.includes('hello from v1\n') ? ['hello from v1\n', 'hello from v2\n'] : ['hello from v2\n']));
  });
});

describe('examples/update-aware-shell', () => {
  it('registers for SIGHUP, reloads when restartd signals it, unregisters on SIGTERM', async () => {
    const dir = join(tmp, 'shell-aware.d');
    const config = join(tmp, 'app.conf');
    writeFileSync(config, 'one');
    const app = run('sh', [resolve('examples/update-aware-shell/reload-on-hup.sh')], { RESTARTD_AWARE_DIR: dir, APP_CONFIG: config });
    await app.waitFor('registered');
    const pid = app.child.pid ?? 0;
    const file = join(dir, `reload-on-hup.${pid}.json`);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ version: 1, name: 'reload-on-hup', pid, startTime: startTimeOf(pid), notify: { kind: 'signal', signal: 'SIGHUP' }, fallback: 'none' });
    writeFileSync(config, 'two');
    const outcome = await notifyProcess(pid, dir, [config]);
    expect(outcome).toMatchObject({ ok: true, notified: [{ name: 'reload-on-hup', via: 'signal', result: 'signalled' }] });
    await app.waitFor('loaded config: two');
    app.child.kill('SIGTERM');
    await new Promise((r) => app.child.once('close', r));
    expect(existsSync(file)).toBe(false);
  });
});
