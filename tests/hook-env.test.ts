import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readHookEnv } from '../src/hook/hook-env.js';
import { finishTaken, hasPending, recordPending, takePending } from '../src/hook/pending-switch.js';

describe('readHookEnv', () => {
  it.each([
    [{}, { request: {}, suspended: false }],
    [{ RESTARTD_OLD: '/a', RESTARTD_NEW: '/b', RESTARTD_SOURCE: 'nix' }, { request: { old: '/a', new: '/b', source: 'nix' }, suspended: false }],
    [{ RESTARTD_OLD: '', RESTARTD_SOURCE: 'rpm' }, { request: {}, suspended: false }],
    [{ RESTARTD_SUSPEND: '1' }, { request: {}, suspended: true }],
    [{ RESTARTD_SUSPEND: '0' }, { request: {}, suspended: false }],
    [{ NEEDRESTART_SUSPEND: 'yes' }, { request: {}, suspended: true }],
  ])('%j -> %j', (env, expected) => {
    expect(readHookEnv(env)).toEqual(expected);
  });
});

describe('the pending switch', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'restartd-pending-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('folds invocations: the earliest old stays, the latest new wins; a taken switch survives until finished', () => {
    recordPending(dir, { old: '/g1', new: '/g2' });
    recordPending(dir, { old: '/g2', new: '/g3' });
    const folded = recordPending(dir, { old: '/g3', new: '/g4' });
    expect(folded).toMatchObject({ old: '/g1', new: '/g4', invocations: 3 });
    expect(JSON.parse(readFileSync(join(dir, 'pending.json'), 'utf8'))).toEqual(folded);

    expect(takePending(dir)).toEqual(folded);
    // While a run carries it out, a new invocation starts a new pending switch.
    recordPending(dir, { old: '/g4', new: '/g5' });
    // A run killed before finishing leaves the taken switch: the next run gets it first.
    expect(takePending(dir)).toEqual(folded);
    finishTaken(dir);
    expect(takePending(dir)).toMatchObject({ old: '/g4', new: '/g5', invocations: 1 });
    finishTaken(dir);
    expect(hasPending(dir)).toBe(false);
    expect(takePending(dir)).toBeUndefined();
  });
});
