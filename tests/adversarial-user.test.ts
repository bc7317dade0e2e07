import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLI } from './support/cli.js';
import { until } from './support/live-process.js';
import { throwawayUser } from './support/throwaway-user.js';

// A throwaway unprivileged user mounts the attacks; restartd runs as root (this test's uid).

/** restartd as root, killed if it outlives `boundMs`: the exit code, or 'stalled'. */
function restartd(args: string[], boundMs = 120_000): Promise<{ code: number | 'stalled'; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: boundMs, maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error?.killed ? 'stalled' : error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('a hostile local user can neither stall nor steer root-run restartd', () => {
  const { scratch, home, asUser, start } = throwawayUser('restartd-adv');

  it('a FIFO-toggling fd and a sparse 16 GiB deleted pair: every root status finishes within its bound', async () => {
    // The user's own files and processes: a fd flipping between a deleted file and a FIFO, and a
    // huge sparse deleted file with a same-size sparse file now at its path.
    const script = [
      'import os, sys, time',
      'd = sys.argv[1]',
      'open(d + "/t.dat", "w").write("T" * 4096); os.mkfifo(d + "/t.fifo")',
      'f = open(d + "/s.dat", "w"); f.truncate(16 << 30); f.close()',
      'keep = os.dup2(os.open(d + "/t.dat", os.O_RDONLY), 9); os.dup2(keep, 3)',
      'sparse = os.open(d + "/s.dat", os.O_RDONLY)',
      'fifo = os.open(d + "/t.fifo", os.O_RDONLY | os.O_NONBLOCK)',
      'for name in ("t", "s"):',
      '    src = d + "/" + name + ".dat"; new = src + ".new"',
      '    f = open(new, "w"); f.write("T" * 4096) if name == "t" else f.truncate(16 << 30); f.close(); os.rename(new, src)',
      'open(d + "/ready", "w").close()',
      'while True:',
      '    os.dup2(fifo, 3); time.sleep(0.004)',
      '    os.dup2(keep, 3); time.sleep(0.001)',
    ].join('\n');
    start(asUser(['/usr/bin/python3', '-c', script, home]));
    await until(() => existsSync(`${home}/ready`), "the user's holder", 6000);
    for (let i = 0; i < 5; i++) {
      const run = await restartd(['status', '--json', '--state-dir', `${scratch.root}/state-${i}`]);
      expect(run.code).not.toBe('stalled');
      expect(run.stderr).not.toContain('internal error');
      const report = JSON.parse(run.stdout) as { stale: Array<{ files: Array<{ path: string; identityOnly?: boolean }> }> };
      const sparse = report.stale.flatMap((p) => p.files).find((f) => f.path === `${home}/s.dat`);
      expect(sparse).toMatchObject({ identityOnly: true });
    }
  }, 900_000);

  it("the user's FIFO as --config and the user's own dir as --state-dir are refused, named, at once", async () => {
    execFileSync('setpriv', asUser(['mkfifo', `${home}/config.json`]).slice(1));
    const config = await restartd(['status', '--config', `${home}/config.json`], 60_000);
    expect(config.code).toBe(3);
    expect(config.stderr).toContain(`config ${home}/config.json: is a FIFO, not a regular file`);
    const state = await restartd(['apply', '--state-dir', home, '--old', '/srv/none-1', '--new', '/srv/none-2'], 60_000);
    expect(state.code).toBe(3);
    expect(state.stderr).toMatch(new RegExp(`state dir ${home}: the dir itself is owned by uid \\d+, not root or the running user`));
    expect(existsSync(`${home}/lock`)).toBe(false);
  }, 300_000);
});
