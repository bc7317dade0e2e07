import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAllRegistrations, listRegistrations, readRegistrations, registrationJsonSchema, RegistrationSchema } from '../src/aware/index.js';
import { parseStat } from '../src/scan/parse.js';

let tmp: string;
let sleeper: ChildProcess;
let n = 0;

const startTimeOf = (pid: number): number => parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.startTime ?? -1;
const good = (pid: number, extra: object = {}) => ({ version: 1, name: 'app', pid, startTime: startTimeOf(pid), notify: { kind: 'signal', signal: 'SIGHUP' }, ...extra });

/** A fresh 0755 dir owned by root. */
function freshDir(): string {
  const dir = join(tmp, `d${n++}`);
  mkdirSync(dir, { mode: 0o755 });
  chmodSync(dir, 0o755);
  return dir;
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'restartd-aware-reg-'));
  sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
});

afterAll(() => {
  sleeper.kill();
  rmSync(tmp, { recursive: true, force: true });
});

describe('registration schema', () => {
  it('schemas/registration.schema.json is generated from RegistrationSchema', async () => {
    await expect(`${JSON.stringify(registrationJsonSchema(), null, 2)}\n`).toMatchFileSnapshot('../schemas/registration.schema.json');
  });

  it('fills in the defaults: ack timeout 5 s, fallback restart', () => {
    expect(RegistrationSchema.parse(good(42))).toMatchObject({ ackTimeoutMs: 5000, fallback: 'restart' });
  });
});

describe('readRegistrations skips what it cannot trust, naming the file and the field or check', () => {
  it.each([
    ['bad signal', (pid: number) => good(pid, { notify: { kind: 'signal', signal: 'SIGKILL' } }), 'notify.signal: expected one of SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH, got "SIGKILL"'],
    ['relative socket', (pid: number) => good(pid, { notify: { kind: 'socket', path: 'app.sock' } }), 'notify.path: expected an absolute path'],
    ['no start time', (pid: number) => ({ ...good(pid), startTime: undefined }), 'startTime: expected'],
    ['unknown key', (pid: number) => good(pid, { exec: '/bin/sh' }), 'exec: unknown key'],
    ['bad fallback', (pid: number) => good(pid, { fallback: 'kill' }), 'fallback: expected one of restart, none, got "kill"'],
    ['not JSON', () => '{ "version": 1,', 'is not valid JSON'],
  ])('%s', async (_name, content, reason) => {
    const dir = freshDir();
    const value = content(sleeper.pid ?? 0);
    writeFileSync(join(dir, 'bad.json'), typeof value === 'string' ? value : JSON.stringify(value));
    writeFileSync(join(dir, 'ok.json'), JSON.stringify(good(sleeper.pid ?? 0)));
    const scan = await readRegistrations(dir);
    expect(scan.registrations.map((r) => r.file)).toEqual([join(dir, 'ok.json')]);
    expect(scan.skipped).toHaveLength(1);
    expect(scan.skipped[0]?.reason).toContain(`${join(dir, 'bad.json')}: `);
    expect(scan.skipped[0]?.reason).toContain(reason);
  });

  it('a symbolic link is not followed', async () => {
    const dir = freshDir();
    writeFileSync(join(tmp, 'target.json'), JSON.stringify(good(sleeper.pid ?? 0)));
    symlinkSync(join(tmp, 'target.json'), join(dir, 'link.json'));
    expect((await readRegistrations(dir)).skipped).toEqual([{ file: join(dir, 'link.json'), reason: `${join(dir, 'link.json')}: is a symbolic link` }]);
  });

  it('a hard link is refused, a FIFO does not hang the run', async () => {
    const dir = freshDir();
    writeFileSync(join(tmp, 'hard.json'), JSON.stringify(good(sleeper.pid ?? 0)));
    linkSync(join(tmp, 'hard.json'), join(dir, 'hard.json'));
    const mkfifo = spawn('mkfifo', [join(dir, 'fifo.json')]);
    await new Promise((resolve) => mkfifo.on('exit', resolve));
    const { registrations, skipped } = await readRegistrations(dir);
    expect(registrations).toEqual([]);
    expect(skipped.map((s) => s.reason)).toEqual([`${join(dir, 'fifo.json')}: is not a regular file`, `${join(dir, 'hard.json')}: has 2 hard links`]);
  });

  it('a dir writable by group or others is not read at all', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'ok.json'), JSON.stringify(good(sleeper.pid ?? 0)));
    chmodSync(dir, 0o775);
    expect(await readRegistrations(dir)).toEqual({ registrations: [], skipped: [{ file: dir, reason: `${dir} is writable by group or others (mode 775)` }] });
    chmodSync(dir, 0o1777);
    expect((await readRegistrations(dir)).skipped[0]?.reason).toContain('writable by group or others');
  });

  it('a dir that is a link is not read', async () => {
    const dir = freshDir();
    symlinkSync(dir, join(tmp, `link${n}`));
    expect((await readRegistrations(join(tmp, `link${n}`))).skipped[0]?.reason).toContain('is not a directory (or is a link)');
  });

  it('a root-owned file in a dir another user owns is refused', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'ok.json'), JSON.stringify(good(sleeper.pid ?? 0)));
    chownSync(dir, 65534, 65534);
    expect((await readRegistrations(dir)).skipped[0]?.reason).toContain('is owned by root in a dir owned by uid 65534');
  });

  it('an oversized file is refused; a missing dir has no registrations', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'big.json'), JSON.stringify(good(sleeper.pid ?? 0, { paths: Array.from({ length: 200 }, (_, i) => `/srv/${'x'.repeat(100)}/${i}`) })));
    expect((await readRegistrations(dir)).skipped[0]?.reason).toContain('is larger than 16384 bytes');
    expect(await readRegistrations(join(tmp, 'nope'))).toEqual({ registrations: [], skipped: [] });
  });
});

describe('listRegistrations', () => {
  it('lists valid and invalid registrations, alive or dead', async () => {
    const dir = freshDir();
    const dead = spawn('true');
    await new Promise((resolve) => dead.on('exit', resolve));
    writeFileSync(join(dir, 'a.json'), JSON.stringify(good(sleeper.pid ?? 0)));
    writeFileSync(join(dir, 'b.json'), JSON.stringify({ ...good(sleeper.pid ?? 0), name: 'gone', pid: dead.pid, startTime: 1 }));
    writeFileSync(join(dir, 'c.json'), '[]');
    const listed = await listRegistrations(dir, { stateDir: join(tmp, 'state') });
    expect(listed).toEqual([
      { file: join(dir, 'a.json'), name: 'app', pid: sleeper.pid, via: 'signal', valid: true, alive: true },
      { file: join(dir, 'b.json'), name: 'gone', pid: dead.pid, via: 'signal', valid: true, alive: false, problem: expect.stringMatching(/^(process-gone|pid-reused)/) },
      { file: join(dir, 'c.json'), valid: false, alive: false, problem: expect.stringContaining('c.json: expected an object, got an array') },
    ]);
  });

  it('listAllRegistrations reads every user runtime dir under the base', async () => {
    const base = join(tmp, 'run-user');
    mkdirSync(join(base, '1000', 'restartd', 'aware.d'), { recursive: true, mode: 0o755 });
    mkdirSync(join(base, 'not-a-uid'), { mode: 0o755 });
    writeFileSync(join(base, '1000', 'restartd', 'aware.d', 'u.json'), JSON.stringify(good(sleeper.pid ?? 0)));
    const listed = await listAllRegistrations({ runtimeBase: base, stateDir: join(tmp, 'state') });
    expect(listed.map((r) => [r.file, r.valid])).toContainEqual([join(base, '1000', 'restartd', 'aware.d', 'u.json'), true]);
  });
});
