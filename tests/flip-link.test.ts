import { mkdirSync, mkdtempSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RestartdError } from '../src/errors.js';
import { flipLink, pointsAt } from '../src/generation/flip-link.js';
import { rollbackFailures, rollbackIntent, unitsOntoNew } from '../src/run/rollback.js';
import type { Outcome } from '../src/types/outcome.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync('/srv/restartd-test-flip-');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A Nix profile as nix-env leaves it: `app -> app-N-link -> STORE/HASH-app`. */
function nixProfile(): { profile: string; generation: (n: number) => string } {
  const store = join(root, 'store');
  const profiles = join(root, 'profiles');
  mkdirSync(profiles, { recursive: true });
  for (const n of [1, 2]) {
    mkdirSync(join(store, `hash${n}-app`, 'bin'), { recursive: true });
    writeFileSync(join(store, `hash${n}-app`, 'bin', 'app'), `v${n}\n`);
    symlinkSync(join(store, `hash${n}-app`), join(profiles, `app-${n}-link`));
  }
  const profile = join(profiles, 'app');
  symlinkSync('app-2-link', profile);
  return { profile, generation: (n) => join(profiles, `app-${n}-link`) };
}

describe('flipLink', () => {
  it('flips a Nix profile link back to the old generation, relative as nix-env writes it', () => {
    const { profile, generation } = nixProfile();
    expect(pointsAt(profile, generation(2))).toBe(true);
    flipLink(profile, generation(1));
    expect(readlinkSync(profile)).toBe('app-1-link');
    expect(realpathSync(profile)).toBe(join(root, 'store', 'hash1-app'));
    expect(pointsAt(profile, generation(1))).toBe(true);
  });

  it('keeps an absolute link absolute', () => {
    const { generation } = nixProfile();
    const home = join(root, '.nix-profile');
    symlinkSync(generation(2), home);
    flipLink(home, generation(1));
    expect(readlinkSync(home)).toBe(generation(1));
  });

  it('never replaces a real file or dir', () => {
    const dir = join(root, 'current');
    mkdirSync(dir);
    expect(() => flipLink(dir, '/srv')).toThrow(RestartdError);
    expect(() => flipLink(dir, '/srv')).toThrow(/is not a symlink: not flipped/);
  });
});

const outcome = (unit: string, extra: Partial<Outcome>): Outcome => ({
  unit,
  owner: { kind: 'system-unit', name: unit },
  action: 'restart',
  phase: 'restart',
  reason: 'stale',
  ok: true,
  jobResult: 'done',
  durationMs: 1,
  pids: [1],
  ...extra,
});

describe('what calls for a rollback, and what is rolled back', () => {
  const outcomes = [
    outcome('fine.service', {}),
    outcome('failed.service', { ok: false, jobResult: 'failed', code: 'JOB_FAILED', cause: 'job failed' }),
    outcome('died.service', { ok: false, code: 'UNIT_FAILED', cause: 'exited 1' }),
    outcome('pinned.service', { ok: false, code: 'STILL_STALE', cause: 'ExecStart points into the old generation' }),
    outcome('skipped.service', { action: 'skip', phase: 'none', jobResult: 'not-run', reason: 'refuse-manual-stop' }),
    outcome('told', { owner: { kind: 'process', name: 'pid:7' }, action: 'notify', phase: 'notify', ok: false, code: 'NOTIFY_UNAVAILABLE' }),
  ];

  it('a failed job or a unit that died calls for it; still stale, skipped and left running do not', () => {
    expect(rollbackFailures(outcomes).map((o) => o.unit)).toEqual(['failed.service', 'died.service']);
    expect(rollbackFailures(outcomes.filter((o) => o.unit !== 'failed.service' && o.unit !== 'died.service'))).toEqual([]);
    expect(rollbackIntent([outcomes[0] as Outcome, outcomes[3] as Outcome], { link: '/l' }, '/new', '/old')).toBeUndefined();
  });

  it('every unit the run put onto NEW goes back, the failed and the healthy; never a skipped or still-stale one', () => {
    expect(unitsOntoNew(outcomes)).toEqual(['died.service', 'failed.service', 'fine.service']);
    expect(rollbackIntent(outcomes, { link: '/l' }, '/new', '/old')).toEqual({
      link: '/l',
      from: '/new',
      to: '/old',
      reason: 'failed.service JOB_FAILED: job failed; died.service UNIT_FAILED: exited 1',
      units: ['died.service', 'failed.service', 'fine.service'],
    });
  });
});
