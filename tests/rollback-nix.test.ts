import { readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/types/exit-codes.js';
import { createNixRoot, type NixRoot } from './support/nix-root.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { pollUntil } from './support/systemd/proc-identity.js';
import { mainPidOf, systemctl, writeUnit } from './support/systemd/units.js';

// A real Nix profile (nix-build, nix-env: generations default-1-link and default-2-link, as
// tests/nix-real.test.ts makes them) rolled back like a release dir's `current`: a unit of a real
// systemd runs the profile's greeter with the store bound at /nix (BindPaths=, the host has no
// /nix); generation 2 breaks its pre-start check (its share/data is another package's); restartd,
// run where /nix is the store, flips the profile back to generation 1 and restarts the unit onto it.
const GENERATIONS = fileURLToPath(new URL('./support/nix-generations.nix', import.meta.url));
const PROFILE = '/nix/var/nix/profiles/default';
const LINK1 = `${PROFILE}-1-link`;
const LINK2 = `${PROFILE}-2-link`;

let root: NixRoot;
let sandbox: SystemdSandbox;
const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');
let greeter1 = '';
let greeter2 = '';

/** The unit's program as its own mount namespace names it (a store path). */
const exeOfUnit = async (): Promise<string> => (await sandbox.exec(['readlink', `/proc/${await mainPidOf(sandbox, 'greeter.service')}/exe`])).stdout.trim();

beforeAll(async () => {
  [root, sandbox] = await Promise.all([createNixRoot('rollback'), startSystemd({ label: 'rollback-nix' })]);
  const build = async (gen: number) => lines(await root.check('nix-build', ['--no-out-link', '--arg', 'gen', String(gen), GENERATIONS]));
  writeFileSync(join(root.base, 'config.json'), '{ "version": 1 }\n');
  const gen1 = await build(1);
  await root.check('nix-env', ['--install', '--remove-all', ...gen1]);
  greeter1 = gen1.find((p) => p.endsWith('-greeter-1.0')) ?? '';
  writeUnit(sandbox, 'greeter.service', {
    Service: [
      'Type=exec',
      `BindPaths=${root.hostPath('/nix')}:/nix`,
      // The service needs generation 1's data file: generation 2 has another (it breaks the service).
      `ExecStartPre=/bin/sh -c 'grep -qx oldonly-1 ${PROFILE}/share/data'`,
      `ExecStart=${PROFILE}/bin/greeter`,
    ],
  });
  await systemctl(sandbox, 'daemon-reload');
  await systemctl(sandbox, 'start', 'greeter.service');
  expect(await exeOfUnit()).toBe(`${greeter1}/bin/greeter`);
  const gen2 = await build(2);
  await root.check('nix-env', ['--install', '--remove-all', ...gen2]);
  greeter2 = gen2.find((p) => p.endsWith('-greeter-1.0')) ?? '';
}, 180_000);

afterAll(async () => {
  await sandbox?.stop();
  await root?.close();
});

describe('a real Nix profile, rolled back', { timeout: 240_000 }, () => {
  it('apply --source nix --link PROFILE --rollback: the restart onto generation 2 fails, the profile points at generation 1 again and the unit runs its files (exit 8)', async () => {
    expect(readlinkSync(root.hostPath(PROFILE))).toBe('default-2-link');
    expect(greeter2).not.toBe(greeter1);
    const before = await mainPidOf(sandbox, 'greeter.service');
    const run = await root.restartd([
      'apply', '--source', 'nix', '--old', LINK1, '--new', LINK2, '--link', PROFILE, '--rollback', '--json',
      '--bus', sandbox.busAddress, '--config', join(root.base, 'config.json'), '--state-dir', join(root.base, 'state'),
    ]);
    expect(run.code, run.stdout + run.stderr).toBe(EXIT.ROLLED_BACK);
    const json = JSON.parse(run.stdout) as { outcomes: { unit: string; code?: string }[]; rolledBack: Record<string, unknown> };
    expect(json.outcomes.find((o) => o.unit === 'greeter.service')?.code).toBe('JOB_FAILED');
    expect(json.rolledBack).toMatchObject({ link: PROFILE, from: LINK2, to: LINK1, units: ['greeter.service'], ok: true });
    // Flipped as Nix switches generations: the profile link is relative, at generation 1 again.
    expect(readlinkSync(root.hostPath(PROFILE))).toBe('default-1-link');
    expect(await pollUntil(async () => (await mainPidOf(sandbox, 'greeter.service')) !== before, 10_000, 100)).toBe(true);
    expect(await exeOfUnit()).toBe(`${greeter1}/bin/greeter`);
  });
});
