import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';

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
});
