import { chmodSync, existsSync, mkdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRestartd } from '../src/index.js';
import { EXIT } from '../src/types/exit-codes.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { pollUntil, startTimeOf } from './support/systemd/proc-identity.js';
import { Releases } from './support/systemd/releases.js';
import { cgroup2Root } from './support/systemd/tree.js';
import { hostPidsOfUnit, mainPidOf, systemctl, writeUnit } from './support/systemd/units.js';

// Update-aware units on a real systemd: a unit whose stale process registered is told instead of
// restarted; one whose app cannot be told (its fallback is restart) is restarted after all.
let sandbox: SystemdSandbox;
let releases: Releases;
let awareDir: string;
const UNITS = ['hup.service', 'mute.service', 'plain.service'];
const before = new Map<string, number>();

/** The unit's process that runs the release's program (host PID), past its exec. */
async function programPid(unit: string, name: string): Promise<number> {
  let found = 0;
  const cgroups = cgroup2Root();
  await pollUntil(() => {
    found = hostPidsOfUnit(sandbox, cgroups, unit).find((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/exe`) === releases.bin(name, 1);
      } catch {
        return false;
      }
    }) ?? 0;
    return found !== 0;
  }, 5000);
  expect(found).toBeGreaterThan(0);
  return found;
}

/** Root writes the registration for the process (root may register any process). */
function register(name: string, pid: number, notify: Record<string, string>, fallback: 'restart' | 'none'): void {
  writeFileSync(join(awareDir, `${name}.json`), JSON.stringify({ version: 1, name, pid, startTime: startTimeOf(pid), notify, fallback }), { mode: 0o644 });
}

beforeAll(async () => {
  sandbox = await startSystemd({ label: 'aware' });
  releases = new Releases({ hup: { from: '/bin/sh' }, mute: { from: '/bin/sh' }, plain: { from: '/bin/sh' } });
  awareDir = join(releases.root, 'aware.d');
  mkdirSync(awareDir, { mode: 0o755 });
  chmodSync(awareDir, 0o755);
  const loop = (mark: string) => `trap "touch ${mark}" HUP; while :; do sleep 1 & wait $! || true; done`;
  for (const name of ['hup', 'mute', 'plain']) {
    writeUnit(sandbox, `${name}.service`, { Service: ['Type=exec', `ExecStart=${releases.bin(name)} -c '${loop(join(releases.root, `${name}.hup`))}'`] });
  }
  await systemctl(sandbox, 'daemon-reload');
  await systemctl(sandbox, 'start', ...UNITS);
  register('hup-app', await programPid('hup.service', 'hup'), { kind: 'signal', signal: 'SIGHUP' }, 'none');
  // A socket nobody serves: no answer can come, so the fallback (restart) applies.
  register('mute-app', await programPid('mute.service', 'mute'), { kind: 'socket', path: join(releases.root, 'nobody.sock') }, 'restart');
  // A malformed registration: skipped, and said once (the plan and the notify phase both read the dir).
  writeFileSync(join(awareDir, 'broken.json'), '{"version": 1', { mode: 0o644 });
  releases.build({ hup: 'changed', mute: 'changed', plain: 'changed' });
  releases.switchTo(2);
  for (const unit of UNITS) before.set(unit, await mainPidOf(sandbox, unit));
});

afterAll(async () => {
  await sandbox?.stop();
  releases?.remove();
});

describe('restartd apply with update-aware units', () => {
  it('tells the registered unit (same MainPID, its SIGHUP handler ran), restarts the one that cannot be told, and the plain one', async () => {
    const restartd = createRestartd({ busAddress: sandbox.busAddress, awareDirs: [awareDir], awareStateDir: join(releases.root, 'aware-state') });
    const skipped: string[] = [];
    restartd.on('aware:skipped', (file) => skipped.push(file));
    const result = await restartd.apply({ old: releases.dir(1), new: releases.dir(2) });
    expect(skipped).toEqual([expect.stringMatching(/\/broken\.json$/)]);
    expect(result).toMatchObject({ kind: 'done', exitCode: EXIT.OK });
    if (result.kind !== 'done') return;
    const byUnit = new Map(result.report.outcomes.map((o) => [o.unit, o]));
    expect(byUnit.get('hup.service')).toMatchObject({ action: 'notify', ok: true });
    expect(byUnit.get('mute.service')).toMatchObject({ action: 'notify', ok: true });
    expect(byUnit.get('mute.service')?.detail).toMatch(/^update-aware fallback: .*; restart done$/);
    expect(byUnit.get('plain.service')).toMatchObject({ action: 'restart', ok: true });
    expect(await pollUntil(() => existsSync(join(releases.root, 'hup.hup')), 3000)).toBe(true);
    expect(existsSync(join(releases.root, 'mute.hup'))).toBe(false);
    expect(await mainPidOf(sandbox, 'hup.service')).toBe(before.get('hup.service'));
    expect(await mainPidOf(sandbox, 'mute.service')).not.toBe(before.get('mute.service'));
    expect(await mainPidOf(sandbox, 'plain.service')).not.toBe(before.get('plain.service'));
  });
});
