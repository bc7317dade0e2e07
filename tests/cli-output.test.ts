import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from './support/cli.js';
import { mapsLine, ProcFixture } from './support/proc-fixture.js';

// A big report into a pipe whose reader is slow: the command exits only once all of it is written.
let fixture: ProcFixture;
let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'restartd-output-'));
  fixture = new ProcFixture();
  const lib = fixture.file('/usr/lib/x86_64-linux-gnu/libbig.so.1', 'new lib');
  for (let pid = 100; pid < 1600; pid += 1) {
    fixture.add({ pid, comm: `worker${pid}`, exe: '/usr/bin/worker', maps: mapsLine('1000-2000', 'r-xp', lib.ino + 100000, lib.path), cgroup: `0::/system.slice/w${pid}.service\n` });
  }
});
afterAll(() => {
  fixture.remove();
  rmSync(tmp, { recursive: true, force: true });
});

describe('output into a slow pipe', () => {
  it('status --json is written whole before the command exits', async () => {
    const args = ['status', '--json', '--proc-root', fixture.proc, '--modules-dir', tmp, '--generations', tmp, '--state-dir', join(tmp, 'state'), '--aware-dir', tmp, '--bus', `unix:path=${join(tmp, 'no-bus')}`];
    const quoted = args.map((a) => `'${a}'`).join(' ');
    const out = await new Promise<string>((resolve, reject) => {
      // The reader starts late: the first 64 KiB fill the pipe, the rest waits in restartd.
      execFile('/bin/sh', ['-c', `"${process.execPath}" "${CLI}" ${quoted} | (sleep 1; cat)`], { maxBuffer: 256 * 1024 * 1024 }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
    });
    expect(out.length).toBeGreaterThan(256 * 1024);
    const report = JSON.parse(out) as { stale: unknown[] };
    expect(report.stale).toHaveLength(1500);
  }, 60_000);
});
