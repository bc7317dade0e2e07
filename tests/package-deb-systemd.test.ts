import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { mainPidOf, systemctl, unitProperty, writeUnit } from './support/systemd/units.js';

// The package's maintainer scripts against a real systemd (the sandbox's): a running
// restartd-watch.service is restarted by an upgrade's postinst and stopped by prerm/postrm on
// remove. /var/lib is a private tmpfs for each script, so the host's /var/lib/restartd stays as it is.
const SCRIPTS = fileURLToPath(new URL('../packaging/deb/', import.meta.url));
const UNIT = 'restartd-watch.service';
let sandbox: SystemdSandbox;


async function maintainerScript(name: string, ...args: string[]): Promise<void> {
  await maintainerScriptUnder(0, name, ...args);
}

/** A maintainer script under the admin's policy-rc.d (deb-systemd-invoke asks it): 0 allows, 101 forbids. */
async function maintainerScriptUnder(policy: number, name: string, ...args: string[]): Promise<void> {
  // A private /usr/sbin holds only that policy-rc.d (the scripts need nothing else from it).
  const setup = `mount -t tmpfs tmpfs /var/lib && mount -t tmpfs tmpfs /usr/sbin && printf '#!/bin/sh\\nexit ${policy}\\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && exec sh "$@"`;
  const r = await sandbox.exec(['unshare', '--mount', '--propagation', 'private', 'sh', '-c', setup, 'sh', `${SCRIPTS}${name}`, ...args]);
  expect(r.code, `${name} ${args.join(' ')}: ${r.stderr}${r.stdout}`).toBe(0);
}

async function startWatchUnit(): Promise<number> {
  await systemctl(sandbox, 'start', UNIT);
  expect(await unitProperty(sandbox, UNIT, 'ActiveState')).toBe('active');
  return mainPidOf(sandbox, UNIT);
}

beforeAll(async () => {
  sandbox = await startSystemd({ label: 'deb' });
  // A stand-in for the packaged unit (same name; the scripts only start and stop it).
  writeUnit(sandbox, UNIT, { Service: ['Type=exec', 'ExecStart=/bin/sleep infinity'] });
  await systemctl(sandbox, 'daemon-reload');
}, 180_000);

afterAll(async () => {
  await sandbox?.stop();
});

describe('the maintainer scripts and a running watch unit', () => {
  it('an upgrade (postinst configure OLD-VERSION) restarts a running watch unit; a first install starts nothing', async () => {
    await maintainerScript('postinst', 'configure');
    expect(await unitProperty(sandbox, UNIT, 'ActiveState')).toBe('inactive');
    const before = await startWatchUnit();
    await maintainerScript('postinst', 'configure', '0.0.1');
    expect(await unitProperty(sandbox, UNIT, 'ActiveState')).toBe('active');
    expect(await mainPidOf(sandbox, UNIT)).not.toBe(before);
  });

  it('prerm remove stops it; prerm upgrade leaves it to the new postinst', async () => {
    const pid = await startWatchUnit();
    await maintainerScript('prerm', 'upgrade', '0.0.2');
    expect(await mainPidOf(sandbox, UNIT)).toBe(pid);
    await maintainerScript('prerm', 'remove');
    expect(await unitProperty(sandbox, UNIT, 'ActiveState')).toBe('inactive');
  });

  it("a policy-rc.d that forbids actions is obeyed: the unit keeps running", async () => {
    const pid = await startWatchUnit();
    await maintainerScriptUnder(101, 'prerm', 'remove');
    await maintainerScriptUnder(101, 'postinst', 'configure', '0.0.1');
    expect(await mainPidOf(sandbox, UNIT)).toBe(pid);
    await systemctl(sandbox, 'stop', UNIT);
  });

  it('postrm remove and purge stop a watch unit still running', async () => {
    for (const step of ['remove', 'purge']) {
      await startWatchUnit();
      await maintainerScript('postrm', step);
      expect(await unitProperty(sandbox, UNIT, 'ActiveState'), step).toBe('inactive');
    }
  });
});
