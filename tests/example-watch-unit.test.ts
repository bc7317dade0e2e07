import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastRuns } from '../src/journal/last-runs.js';
import { CLI } from './support/cli.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { pollUntil } from './support/systemd/proc-identity.js';
import { Releases } from './support/systemd/releases.js';
import { mainPidOf, systemctl, writeUnit } from './support/systemd/units.js';

// examples/systemd/restartd-watch.service as it is shipped, run by a real systemd: restartd runs as
// that unit inside the sandbox (its /proc, cgroups and system bus are the sandbox's, as on a host).
// Only the paths are adapted: the CLI, the link, and a state dir of the test's own.
const EXAMPLE = fileURLToPath(new URL('../examples/systemd/restartd-watch.service', import.meta.url));
let sandbox: SystemdSandbox;
let releases: Releases;
let stateDir: string;
const countFile = (): string => join(releases.root, 'counts');
const starts = (): number => (existsSync(countFile()) ? readFileSync(countFile(), 'utf8').split('\n').filter(Boolean).length : 0);

beforeAll(async () => {
  sandbox = await startSystemd({ label: 'exwatch' });
  releases = new Releases({ app: { from: '/bin/sleep' } });
  stateDir = join(releases.root, 'state');
  mkdirSync(stateDir);
  writeUnit(sandbox, 'app.service', { Service: ['Type=exec', `ExecStartPre=/bin/sh -c 'echo x >> ${countFile()}'`, `ExecStart=${releases.bin('app')} infinity`] });
  const shipped = readFileSync(EXAMPLE, 'utf8');
  const adapted = shipped
    .replace('/usr/bin/restartd', `${process.execPath} ${CLI}`)
    .replace(/--link \/srv\/app\/current/, `--link ${releases.current}`)
    .replace('--debounce 2', '--debounce 0.5')
    .replace('--state-dir /var/lib/restartd', `--state-dir ${stateDir}`)
    // The sandbox shares the host's /var/lib: no StateDirectory= there.
    .replace(/^StateDirectory=.*$/m, '');
  expect(adapted).not.toBe(shipped);
  expect(adapted).toContain(`--link ${releases.current}`);
  writeFileSync(join(sandbox.unitDir, 'restartd-watch.service'), adapted);
  await systemctl(sandbox, 'daemon-reload');
  await systemctl(sandbox, 'start', 'app.service', 'restartd-watch.service');
  releases.build({ app: 'changed' });
});

afterAll(async () => {
  await sandbox?.stop();
  releases?.remove();
});

async function journalOf(unit: string): Promise<string> {
  return (await sandbox.exec(['journalctl', '--no-pager', '-o', 'cat', '-u', unit])).stdout;
}

describe('examples/systemd/restartd-watch.service under a real systemd', () => {
  it('follows the link: one apply per switch restarts the stale unit, and the watcher itself keeps running', async () => {
    expect(await pollUntil(async () => (await journalOf('restartd-watch.service')).includes('restartd watch: watching'), 15_000, 200), await journalOf('restartd-watch.service')).toBe(true);
    const watcher = await mainPidOf(sandbox, 'restartd-watch.service');
    const before = { app: await mainPidOf(sandbox, 'app.service'), starts: starts() };

    releases.switchTo(2);
    expect(await pollUntil(() => lastRuns(stateDir, 5)[0]?.state === 'finished', 30_000), await journalOf('restartd-watch.service')).toBe(true);
    expect(lastRuns(stateDir, 5)).toEqual([
      expect.objectContaining({ old: releases.dir(1), new: releases.dir(2), done: [expect.objectContaining({ unit: 'app.service', action: 'restart' })], failed: [] }),
    ]);
    expect(starts()).toBe(before.starts + 1);
    expect(await mainPidOf(sandbox, 'app.service')).not.toBe(before.app);
    expect(await mainPidOf(sandbox, 'restartd-watch.service')).toBe(watcher);
    expect(await journalOf('restartd-watch.service')).toContain(`restartd watch: switch ${releases.dir(1)} -> ${releases.dir(2)}`);
  });
});
