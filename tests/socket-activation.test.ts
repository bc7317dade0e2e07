import { statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlannedAction } from '../src/types/plan.js';
import { runCli } from './support/cli.js';
import { startSystemd, type SystemdSandbox } from './support/systemd-sandbox.js';
import { pollUntil } from './support/systemd/proc-identity.js';
import { Releases } from './support/systemd/releases.js';
import { mainPidOf, systemctl, unitProperty, writeUnit } from './support/systemd/units.js';

// A stale socket-activated service restarts alone: systemd keeps its listening socket, connections
// made meanwhile queue and are answered by the new process.
let sandbox: SystemdSandbox;
let releases: Releases;
let socketPath: string;

// The service: a copy of perl (the stale file) answering every connection on its inherited fd 3.
// SIGTERM ends it between connections, never between accepting one and answering it (a server
// killed there drops that client whoever restarts it; that is not what this test is about).
const SERVER = `my $stop = 0;\n$SIG{TERM} = sub { $stop = 1 };\nopen(my $l, '+<&=', 3) or die "fd 3: $!";\nuntil ($stop) { accept(my $c, $l) or next; syswrite($c, "ok $$\\n"); close($c); }\n`;

beforeAll(async () => {
  sandbox = await startSystemd({ label: 'sock' });
  releases = new Releases({ perl: { from: '/usr/bin/perl' } });
  socketPath = join(releases.root, 'echo.sock');
  const script = join(releases.root, 'server.pl');
  writeFileSync(script, SERVER);
  writeUnit(sandbox, 'echo.socket', { Socket: [`ListenStream=${socketPath}`, 'Backlog=4096'] });
  writeUnit(sandbox, 'echo.service', { Service: ['Type=simple', `ExecStart=${releases.bin('perl')} ${script}`] });
  await systemctl(sandbox, 'daemon-reload');
  await systemctl(sandbox, 'start', 'echo.socket');
  await systemctl(sandbox, 'start', 'echo.service');
  releases.build({ perl: 'changed' });
  releases.switchTo(2);
});

afterAll(async () => {
  await sandbox?.stop();
  releases?.remove();
});

type Result = 'answered' | 'refused' | 'reset' | 'unanswered' | string;

/** One connection: answered when the server's line arrives; otherwise what went wrong. */
function probe(path: string): Promise<Result> {
  return new Promise((resolve) => {
    let data = '';
    const socket = connect(path);
    socket.setTimeout(30_000, () => socket.destroy(new Error('timeout')));
    socket.on('data', (chunk) => (data += String(chunk)));
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED' ? 'refused' : error.code === 'ECONNRESET' ? 'reset' : (error.code ?? error.message)));
    socket.on('close', () => resolve(data.startsWith('ok ') ? 'answered' : 'unanswered'));
  });
}

describe('a socket-activated service on a real systemd', () => {
  it('plans the stale service alone: its socket unit did not change', async () => {
    const plan = await runCli(['plan', '--old', releases.dir(1), '--new', releases.dir(2), '--bus', sandbox.busAddress, '--json']);
    const actions = (JSON.parse(plan.stdout) as { actions: PlannedAction[] }).actions.filter((a) => a.unit?.startsWith('echo.') === true);
    expect(actions).toEqual([expect.objectContaining({ unit: 'echo.service', action: 'restart', phase: 'restart' })]);
    expect(actions[0]?.sockets).toBeUndefined();
  });

  it('apply under a client connecting every few ms: nothing refused or reset, the same listening socket', async () => {
    const inode = statSync(socketPath).ino;
    const before = await mainPidOf(sandbox, 'echo.service');
    const results: Promise<Result>[] = [];
    let clients = true;
    const loop = (async () => {
      while (clients) {
        results.push(probe(socketPath));
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
    })();
    // Some connections are answered by the old process first, so the loop runs across the restart.
    await pollUntil(() => results.length >= 20, 30_000, 5);
    const apply = await runCli(['apply', '--old', releases.dir(1), '--new', releases.dir(2), '--bus', sandbox.busAddress, '--state-dir', join(releases.root, 'state')]);
    const after = await mainPidOf(sandbox, 'echo.service');
    // And some after it, by the new process.
    const sent = results.length;
    await pollUntil(() => results.length >= sent + 20, 30_000, 5);
    clients = false;
    await loop;
    const outcome = await Promise.all(results);
    const count = (r: Result) => outcome.filter((o) => o === r).length;

    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(after).not.toBe(before);
    expect(await unitProperty(sandbox, 'echo.socket', 'ActiveState')).toBe('active');
    expect({ refused: count('refused'), reset: count('reset'), other: outcome.filter((o) => o !== 'answered' && o !== 'refused' && o !== 'reset') }).toEqual({ refused: 0, reset: 0, other: [] });
    expect(count('answered')).toBe(outcome.length);
    expect(statSync(socketPath).ino).toBe(inode);
  });
});
