import { execFile } from 'node:child_process';
import { appendFileSync, chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastRuns } from '../src/journal/last-runs.js';
import { CLI } from './support/cli.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { cgroup2Root } from './support/systemd/tree.js';
import { hostPidsOfUnit, systemctl, writeUnit } from './support/systemd/units.js';

// examples/apt for real: a locally built .deb whose program a sandbox service runs, upgraded with
// apt-get using the example's hooks (its config file, its scripts); restartd restarts it once.
const EXAMPLES = fileURLToPath(new URL('../examples/apt/', import.meta.url));
const PACKAGE = 'restartd-test-demo';
const PROGRAM = `/usr/lib/${PACKAGE}/demo`;
let sandbox: SystemdSandbox;
let root: string;

function run(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out: stdout + stderr });
    });
  });
}

async function buildDeb(version: number): Promise<string> {
  const tree = join(root, `pkg-${version}`);
  mkdirSync(join(tree, 'DEBIAN'), { recursive: true });
  mkdirSync(join(tree, `usr/lib/${PACKAGE}`), { recursive: true });
  writeFileSync(join(tree, 'DEBIAN/control'), `Package: ${PACKAGE}\nVersion: ${version}\nArchitecture: all\nMaintainer: restartd tests <root@localhost>\nDescription: restartd test program\n`);
  copyFileSync('/bin/sleep', join(tree, PROGRAM));
  appendFileSync(join(tree, PROGRAM), `\nrestartd-test deb v${version}\n`);
  const deb = join(root, `${PACKAGE}_${version}_all.deb`);
  const built = await run('dpkg-deb', ['--build', '--root-owner-group', tree, deb]);
  if (built.code !== 0) throw new Error(built.out);
  return deb;
}

const starts = (): number => (existsSync(join(root, 'counts')) ? readFileSync(join(root, 'counts'), 'utf8').split('\n').filter(Boolean).length : 0);

beforeAll(async () => {
  root = mkdtempSync('/srv/restartd-test-apt-');
  sandbox = await startSystemd({ label: 'apt' });
  const installed = await run('dpkg', ['-i', await buildDeb(1)]);
  if (installed.code !== 0) throw new Error(installed.out);
  writeUnit(sandbox, 'demo.service', { Service: ['Type=exec', `ExecStartPre=/bin/sh -c 'echo x >> ${root}/counts'`, `ExecStart=${PROGRAM} infinity`] });
  await systemctl(sandbox, 'daemon-reload');
  await systemctl(sandbox, 'start', 'demo.service');
}, 180_000);

afterAll(async () => {
  await sandbox?.stop();
  await run('dpkg', ['--purge', PACKAGE]);
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

describe('examples/apt', () => {
  it('apt-get upgrades the package; the hooks find the service running the old program and restart it once', async () => {
    const deb = await buildDeb(2);
    const bin = join(root, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'restartd'), `#!/bin/sh\nexec ${process.execPath} ${CLI} "$@"\n`);
    chmodSync(join(bin, 'restartd'), 0o755);
    const config = join(root, 'config.json');
    writeFileSync(config, '{ "version": 1 }\n');
    const stateDir = join(root, 'state');
    // The example's apt config, pointed at the example scripts where they are in this checkout.
    const aptConf = join(root, '99restartd');
    writeFileSync(aptConf, readFileSync(join(EXAMPLES, '99restartd'), 'utf8').replaceAll('/usr/local/lib/restartd/', EXAMPLES));
    const before = starts();
    const env = {
      ...process.env,
      PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      DEBIAN_FRONTEND: 'noninteractive',
      // The host's needrestart hook lists only: it must not restart host services under the test.
      NEEDRESTART_MODE: 'l',
      RESTARTD_STATE_DIR: stateDir,
      RESTARTD_HOOK_ARGS: `--bus ${sandbox.busAddress} --config ${config}`,
    };
    const apt = await run('apt-get', ['-c', aptConf, 'install', '-y', '--allow-downgrades', deb], env);
    expect(apt.code, apt.out).toBe(0);
    expect(apt.out).toMatch(/restarted demo\.service/);
    expect(starts()).toBe(before + 1);
    const [latest] = lastRuns(stateDir, 5);
    expect(latest).toMatchObject({ state: 'finished', failed: [], done: [expect.objectContaining({ unit: 'demo.service', action: 'restart' })] });
    const pids = hostPidsOfUnit(sandbox, cgroup2Root(), 'demo.service');
    expect(pids.map((pid) => readlinkSync(`/proc/${pid}/exe`))).toEqual([PROGRAM]);
  });
});
