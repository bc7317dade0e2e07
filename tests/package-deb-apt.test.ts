import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastRuns } from '../src/journal/last-runs.js';
import { demoDeb, packageDeb, run } from './support/deb.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { cgroup2Root } from './support/systemd/tree.js';
import { hostPidsOfUnit, systemctl, writeUnit } from './support/systemd/units.js';

// The package's apt hook and its bundled CLI, as the .deb ships them (unpacked with dpkg-deb -x and
// pointed at where they were unpacked), run by a real apt-get upgrade of a package whose program a
// service of the systemd sandbox runs: restartd, with the modules the .deb carries, restarts it once.
// (The .deb itself is installed with dpkg and apt in tests/package-deb.test.ts, in an overlay root.)
const DEMO = 'restartd-test-debapt-demo';
const PROGRAM = `/usr/lib/${DEMO}/demo`;
const LOCK = ['-o', 'DPkg::Lock::Timeout=600'];
const APT_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', NEEDRESTART_MODE: 'l' };
let sandbox: SystemdSandbox;
let root: string;
let unpacked: string;

const starts = (): number => (existsSync(join(root, 'counts')) ? readFileSync(join(root, 'counts'), 'utf8').split('\n').filter(Boolean).length : 0);

/** A file of the package with its /usr/lib/restartd/ moved to where the package is unpacked. */
function relocated(path: string): string {
  return readFileSync(join(unpacked, path), 'utf8').replaceAll('/usr/lib/restartd/', `${unpacked}/usr/lib/restartd/`);
}

beforeAll(async () => {
  root = mkdtempSync('/srv/restartd-test-debapt-');
  const deb = await packageDeb(join(root, 'debs'));
  unpacked = join(root, 'pkg');
  expect((await run('dpkg-deb', ['-x', deb, unpacked])).code).toBe(0);
  sandbox = await startSystemd({ label: 'debapt' });
  const installed = await run('apt-get', [...LOCK, 'install', '-y', await demoDeb(root, DEMO, 1)], { env: APT_ENV });
  if (installed.code !== 0) throw new Error(installed.out);
  writeUnit(sandbox, 'demo.service', { Service: ['Type=exec', `ExecStartPre=/bin/sh -c 'echo x >> ${root}/counts'`, `ExecStart=${PROGRAM} infinity`] });
  await systemctl(sandbox, 'daemon-reload');
  await systemctl(sandbox, 'start', 'demo.service');
}, 300_000);

afterAll(async () => {
  await sandbox?.stop();
  await run('apt-get', [...LOCK, 'purge', '-y', DEMO], { env: APT_ENV });
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

describe("the package's apt hook", () => {
  it('apt-get upgrades a package a service runs; the hook and the bundled CLI restart the service once', async () => {
    const bin = join(root, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'restartd'), relocated('usr/bin/restartd'));
    chmodSync(join(bin, 'restartd'), 0o755);
    const aptConf = join(root, '99restartd');
    writeFileSync(aptConf, relocated('etc/apt/apt.conf.d/99restartd'));
    const config = join(root, 'config.json');
    writeFileSync(config, '{ "version": 1 }\n');
    const stateDir = join(root, 'state');
    const before = starts();
    const env = {
      ...APT_ENV,
      PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      RESTARTD_STATE_DIR: stateDir,
      RESTARTD_HOOK_ARGS: `--bus ${sandbox.busAddress} --config ${config}`,
    };
    const apt = await run('apt-get', ['-c', aptConf, ...LOCK, 'install', '-y', await demoDeb(root, DEMO, 2)], { env });
    expect(apt.code, apt.out).toBe(0);
    expect(apt.out).toMatch(/restarted demo\.service/);
    expect(starts()).toBe(before + 1);
    const [latest] = lastRuns(stateDir, 5);
    expect(latest).toMatchObject({ state: 'finished', failed: [], done: [expect.objectContaining({ unit: 'demo.service', action: 'restart' })] });
    const pids = hostPidsOfUnit(sandbox, cgroup2Root(), 'demo.service');
    expect(pids.map((pid) => readlinkSync(`/proc/${pid}/exe`))).toEqual([PROGRAM]);
  });
});
