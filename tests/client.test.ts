import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistrationSchema } from '../src/aware/index.js';
import { registerUpdateAware } from '../src/client.js';

// Child apps import the built client (npm run build first), as an installed app would.
const clientUrl = new URL(`file://${resolve('dist/client.js')}`).href;
let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'restartd-client-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs an app that registers in `dir`, then runs `then` (JS); resolves once it printed "ready". */
function startApp(dir: string, then: string): { ready: Promise<void>; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>; kill: (s: NodeJS.Signals) => void; output: () => string } {
  const script = join(tmp, `app-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(script, `import { registerUpdateAware } from ${JSON.stringify(clientUrl)};\nawait registerUpdateAware({ name: 'app', dir: ${JSON.stringify(dir)}, onUpdate: () => 'handled' });\nconsole.log('ready');\n${then}\n`);
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const ready = new Promise<void>((resolveReady, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready')) resolveReady();
    });
    child.once('close', () => reject(new Error(`app exited before ready: ${out}`)));
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => child.once('exit', (code, signal) => resolveExit({ code, signal })));
  return { ready, exited, kill: (signal) => child.kill(signal), output: () => out };
}

describe('registerUpdateAware', () => {
  it('writes a valid registration atomically (0644 in a 0755 dir), serves a 0600 socket, and close() unregisters', async () => {
    const dir = join(tmp, 'inproc', 'aware.d');
    const handle = await registerUpdateAware({ name: 'inproc', dir, ackTimeoutMs: 2000, onUpdate: () => undefined });
    expect(handle.file).toBe(join(dir, `inproc.${process.pid}.json`));
    expect(statSync(dir).mode & 0o777).toBe(0o755);
    expect(statSync(handle.file).mode & 0o777).toBe(0o644);
    expect(statSync(handle.socketPath).isSocket()).toBe(true);
    expect(statSync(handle.socketPath).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual([`inproc.${process.pid}.json`, `inproc.${process.pid}.sock`]);
    expect(RegistrationSchema.parse(JSON.parse(readFileSync(handle.file, 'utf8')))).toMatchObject({
      name: 'inproc', pid: process.pid, ackTimeoutMs: 2000, fallback: 'restart', notify: { kind: 'socket', path: handle.socketPath },
    });
    await handle.close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a name the schema refuses, writing nothing', async () => {
    const dir = join(tmp, 'badname');
    await expect(registerUpdateAware({ name: '../evil', dir, onUpdate: () => undefined })).rejects.toThrow(/name/);
    expect(existsSync(dir)).toBe(false);
  });

  it('unregisters on SIGTERM and still dies of it (the default behaviour is kept)', async () => {
    const dir = join(tmp, 'term');
    const app = startApp(dir, 'setInterval(() => {}, 1000);');
    await app.ready;
    expect(readdirSync(dir)).toHaveLength(2);
    app.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it("unregisters on SIGINT and leaves the app's own SIGINT handler in charge", async () => {
    const dir = join(tmp, 'int');
    const app = startApp(dir, "process.on('SIGINT', () => { console.log('bye'); setTimeout(() => process.exit(7), 50); }); setInterval(() => {}, 1000);");
    await app.ready;
    app.kill('SIGINT');
    expect(await app.exited).toEqual({ code: 7, signal: null });
    expect(app.output()).toContain('bye');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('does not keep the app alive, and unregisters when it exits', async () => {
    const dir = join(tmp, 'exit');
    const app = startApp(dir, '');
    await app.ready;
    expect(await app.exited).toEqual({ code: 0, signal: null });
    expect(readdirSync(dir)).toEqual([]);
  });
});
