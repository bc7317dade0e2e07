import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { CLI, runCli } from './support/cli.js';

describe('restartd CLI', () => {
  it('prints usage and exits 3 on an unknown command', async () => {
    const run = await runCli(['frobnicate']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('unknown command "frobnicate"');
    expect(run.stderr).toContain('usage: restartd');
  });

  it('names the flag and the expected values for a bad --source', async () => {
    const run = await runCli(['diff', '/a', '/b', '--source', 'rpm']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('--source: expected one of dir, nix, manifest, got "rpm"');
  });

  it('rejects an unknown flag', async () => {
    const run = await runCli(['status', '--colour']);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/Unknown option '--colour'/);
  });

  it('plan needs both generations', async () => {
    const run = await runCli(['plan', '--old', '/a']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('plan needs --old OLD and --new NEW');
  });

  it('status prints a readable report on this machine', async () => {
    const run = await runCli(['status']);
    expect([0, 1]).toContain(run.code);
    expect(run.stdout).toMatch(/^scanned \d+ processes in \d+\.\d\d s: /m);
  });

  it('--version prints the package version', async () => {
    const run = await runCli(['--version']);
    expect(run).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/) });
  });

  it('no command: usage on stderr, exit 3', async () => {
    const run = await runCli([]);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('no command given');
  });

  it.each([
    [['status', '--proc-root', '/nonexistent-restartd'], '--proc-root /nonexistent-restartd: does not exist'],
    [['status', '--proc-root', '/etc/passwd'], '--proc-root /etc/passwd: not a directory'],
    [['apply', '--old', '/a', '--new', '/b', '--dry-run', '--bus', 'garbage'], '--bus: expected unix:path=/path/to/socket or tcp:host=HOST,port=PORT, got "garbage"'],
    [['apply', '--old', '/a', '--new', '/b', '--dry-run', '--bus', 'unix:abstract=x'], 'got "unix:abstract=x"'],
    [['apply', '--old', '/a', '--new', '/b', '--dry-run', '--bus', 'unix:path=/nonexistent-restartd/bus'], 'D-Bus connection to unix:path=/nonexistent-restartd/bus failed (ENOENT)'],
  ])('bad input is named, never a stack trace: %j', async (args, message) => {
    // apply: real generations (the same dir twice), so the bus is what fails.
    const run = await runCli(args.map((a) => (a === '/a' || a === '/b' ? tmpdir() : a)));
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(message);
    expect(run.stderr).not.toContain('internal error');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('a reader that goes away early (| head -1) ends the output quietly', async () => {
    const run = await new Promise<{ code: number; stderr: string; stdout: string }>((resolve) => {
      execFile('/bin/sh', ['-c', `"${process.execPath}" "${CLI}" status --json | head -c 1; exit "\${PIPESTATUS:-0}"`], (error, stdout, stderr) =>
        resolve({ code: error && typeof error.code === 'number' ? error.code : 0, stdout, stderr }),
      );
    });
    expect(run.stdout).toBe('{');
    expect(run.stderr).toBe('');
  });

  it('the bin (the bundle in dist/cli/restartd.js) runs status like dist/cli/main.js', async () => {
    const bin = CLI.replace(/main\.js$/, 'restartd.js');
    const run = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(process.execPath, [bin, 'status', '--json'], { maxBuffer: 256 * 1024 * 1024 }, (error, stdout) =>
        resolve({ code: error && typeof error.code === 'number' ? error.code : 0, stdout }),
      );
    });
    expect([0, 1, 2]).toContain(run.code);
    const report = JSON.parse(run.stdout) as { version: number; scanned: { processes: number } };
    expect(report.version).toBe(1);
    expect(report.scanned.processes).toBeGreaterThan(0);
  });
});
