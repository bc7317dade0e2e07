import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openUserManager } from '../src/systemd/user-manager.js';
import type { UserManagerState } from '../src/types/systemd.js';

// What the child acting as a user answers is untrusted: real child processes that lie, flood or
// stall must end in a clear BUS error or an absent manager, never in a value used as if true.
const NOBODY = { uid: 65534, gid: 65534, name: 'nobody', home: '/nonexistent' };
let dir: string;
/** The manager's root as root reaches it: the runtime dir is ROOT/run/user/UID. */
let root: string;

/** A child that greets as `hello` and answers every request with `answer(request)` (JS source). */
function fakeChild(name: string, hello: string, answer: string): string {
  const path = join(dir, `${name}.mjs`);
  writeFileSync(path, `import { createInterface } from 'node:readline';
process.stdout.write(${hello} + '\\n');
for await (const line of createInterface({ input: process.stdin })) {
  const request = JSON.parse(line);
  const out = (${answer})(request);
  if (out !== undefined) process.stdout.write(out + '\\n');
}
`);
  return path;
}

const greeting = JSON.stringify(JSON.stringify({ ready: true, uid: NOBODY.uid, gid: NOBODY.gid, groups: [NOBODY.gid] }));

async function open(childScript: string, callTimeoutMs = 2000): Promise<UserManagerState> {
  return openUserManager({ account: NOBODY, root, process: undefined, callTimeoutMs, childScript });
}

async function running(childScript: string): Promise<Extract<UserManagerState, { state: 'running' }>> {
  const state = await open(childScript);
  if (state.state !== 'running') throw new Error(`expected a running manager, got: ${state.reason}`);
  return state;
}

beforeAll(() => {
  dir = mkdtempSync('/tmp/restartd-user-trust-');
  root = mkdtempSync(join(dir, 'root-'));
  const runtimeDir = join(root, 'run', 'user', String(NOBODY.uid));
  mkdirSync(runtimeDir, { recursive: true });
  chownSync(runtimeDir, NOBODY.uid, NOBODY.gid);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the user manager child's answers", () => {
  it('a child that says it runs as someone else is not that user\'s manager', async () => {
    const liar = fakeChild('liar', JSON.stringify(JSON.stringify({ ready: true, uid: 0, gid: 0, groups: [] })), '() => undefined');
    const state = await open(liar);
    expect(state).toMatchObject({ state: 'absent', reason: expect.stringMatching(/runs as uid 0 gid 0, not 65534\/65534/) });
  });

  it('an answer of the wrong shape is refused and ends the child', async () => {
    const child = fakeChild('shape', greeting, `(r) => JSON.stringify({ id: r.id, ok: true, value: { name: 'x.service', loadState: 'loaded', activeState: 'active', mainPid: 'one' } })`);
    const { manager } = await running(child);
    await expect(manager.unitFacts('x.service')).rejects.toMatchObject({ code: 'BUS', message: expect.stringMatching(/answered unitFacts with something else/) });
    await expect(manager.unitState('x.service')).rejects.toMatchObject({ code: 'BUS' });
    manager.close();
  });

  it('a line over the size bound ends the child', async () => {
    const child = fakeChild('flood', greeting, `(r) => JSON.stringify({ id: r.id, ok: true, value: 'x'.repeat(300000) })`);
    const { manager } = await running(child);
    await expect(manager.unitState('x.service')).rejects.toMatchObject({ code: 'BUS', message: expect.stringMatching(/a line over 262144 bytes/) });
    manager.close();
  });

  it('a line over the size bound ends the child even when its end comes with the last piece', async () => {
    // Exactly the bound first, then the rest of the line with its newline: the line, not what is left, is too long.
    const child = fakeChild(
      'pieces',
      greeting,
      `(r) => { const head = '{"id":' + r.id + ',"ok":true,"value":"'; process.stdout.write(head + 'x'.repeat(262144 - head.length)); setTimeout(() => process.stdout.write('x'.repeat(100) + '"}\\n'), 300); return undefined; }`,
    );
    const { manager } = await running(child);
    await expect(manager.unitState('x.service')).rejects.toMatchObject({ code: 'BUS', message: expect.stringMatching(/a line over 262144 bytes/) });
    manager.close();
  });

  it("a notification id that is not a uint32 is refused: the child's word for it is checked like any answer", async () => {
    const child = fakeChild('notify', greeting, `(r) => JSON.stringify({ id: r.id, ok: true, value: r.op === 'notify' ? -1 : 0 })`);
    const { manager } = await running(child);
    await expect(manager.notify({ appName: 'restartd', summary: 's', body: 'b', timeoutMs: 2000 })).rejects.toMatchObject({ code: 'BUS', message: expect.stringMatching(/answered notify with something else/) });
    manager.close();
  });

  it('an answer nobody asked for ends the child', async () => {
    const child = fakeChild('stray', greeting, `(r) => JSON.stringify({ id: r.id + 100, ok: true, value: 1 })`);
    const { manager } = await running(child);
    await expect(manager.unitState('x.service')).rejects.toMatchObject({ code: 'BUS', message: expect.stringMatching(/an answer nobody asked for/) });
    manager.close();
  });

  it('a child that never answers times out', async () => {
    const child = fakeChild('mute', greeting, '() => undefined');
    const { manager } = await running(child);
    await expect(manager.unitState('x.service')).rejects.toMatchObject({ code: 'BUS', message: expect.stringMatching(/unitState: no answer after/) });
    manager.close();
  }, 20_000);

  it('a child that never greets is a manager that did not answer', async () => {
    const child = fakeChild('silent', '""', '() => undefined');
    const state = await open(child, 200);
    expect(state).toMatchObject({ state: 'absent', reason: expect.stringMatching(/did not answer/) });
  }, 20_000);

  it('an honest error answer stays the error it names', async () => {
    const child = fakeChild('honest', greeting, `(r) => JSON.stringify({ id: r.id, ok: false, code: 'SYSTEMD', message: 'Unit x.service not loaded.' })`);
    const { manager } = await running(child);
    await expect(manager.restart('x.service')).rejects.toMatchObject({ code: 'SYSTEMD', message: 'Unit x.service not loaded.' });
    expect(await manager.unitState('x.service').catch((e: Error) => e.message)).toBe('Unit x.service not loaded.');
    manager.close();
  });

  it('a runtime dir that is not the user\'s means no manager (no child is started)', async () => {
    const other = mkdtempSync(join(dir, 'root-owned-'));
    mkdirSync(join(other, 'run', 'user', String(NOBODY.uid)), { recursive: true });
    const state = await openUserManager({ account: NOBODY, root: other, process: undefined, callTimeoutMs: 1000, childScript: '/nonexistent' });
    expect(state).toMatchObject({ state: 'absent', reason: expect.stringMatching(/is not nobody's runtime dir/) });
  });
});
