import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';

// The CLI as a new user meets it: it never says "all fine" when it could not look, says why it
// knows less, and points at what to type next.
const tmp = mkdtempSync(join(tmpdir(), 'restartd-truthful-'));
// The unprivileged run below looks into it (and finds no state there).
chmodSync(tmp, 0o755);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
// No system bus anywhere: nothing of this machine's bus decides these tests.
const noBus = { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${join(tmp, 'no-bus')}` };

describe('a truthful CLI', () => {
  it('status as an unprivileged user with others processes unreadable is never OK: exit 3 (or 1) and "run as root"', async () => {
    // nobody (65534) cannot read root's processes' maps and fds.
    const run = await runCli(['status', '--state-dir', join(tmp, 'state'), '--aware-dir', tmp, '--generations', tmp], { uid: 65534, gid: 65534, env: noBus });
    expect(run.stderr).not.toContain('internal error');
    expect([1, 3]).toContain(run.code);
    expect(run.stdout).toContain('run as root');
    expect(run.stdout).not.toMatch(/^status: up to date/m);
  });

  it('a usage error is one line and where the help is, not the whole help; a typo names the flag meant', async () => {
    const run = await runCli(['status', '--jsn']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain("Unknown option '--jsn'; did you mean --json?");
    expect(run.stderr).toContain('see restartd --help');
    expect(run.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
  });

  it('a flag that has no effect on the command is said so', async () => {
    const run = await runCli(['diff', tmp, tmp, '--dry-run', '--json']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('--dry-run has no effect on diff');
  });

  it('apply --dry-run works without a system bus: unit facts unknown, said once', async () => {
    const run = await runCli(['apply', '--dry-run', '--state-dir', join(tmp, 'state'), '--aware-dir', tmp, '--json'], { env: noBus });
    expect([0, 2, 4, 5]).toContain(run.code);
    const report = JSON.parse(run.stdout) as { dryRun: boolean; outcomes: unknown[] };
    expect(report.dryRun).toBe(true);
    expect(run.stderr.match(/no unit facts/g)?.length ?? 0).toBeLessThanOrEqual(1);
    expect(run.stderr).not.toContain('internal error');
  });

  it('plan without generations plans the live system; status names the command that acts on it', async () => {
    const plan = await runCli(['plan', '--aware-dir', tmp, '--json'], { env: noBus });
    expect([0, 1]).toContain(plan.code);
    const report = JSON.parse(plan.stdout) as { generations?: unknown; actions: unknown[] };
    expect(report.generations).toBeUndefined();
    expect(Array.isArray(report.actions)).toBe(true);
    if (plan.code === 1) {
      const status = await runCli(['status', '--state-dir', join(tmp, 'state'), '--aware-dir', tmp, '--generations', tmp], { env: noBus });
      expect(status.stdout).toContain('restartd apply');
    }
  });
});
