import { execFileSync } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { closeSync, constants, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { terminalsOf, writeToTerminals } from '../src/aware/user-terminals.js';
import { sendDesktopNotification } from '../src/systemd/adapter.js';
import { until } from './support/live-process.js';
import { scratchRoot } from './support/scratch.js';
import { throwawayUser } from './support/throwaway-user.js';

// A throwaway unprivileged user tries to make root (this test's uid) open or write what it should
// not through the terminals restartd tells users on. Real processes, a real user namespace.

/**
 * The user's FIFO and a reader of theirs that notes down every opening of it for writing: what it
 * read, one line per opening. An opening by root shows as a line before the test's own "control".
 */
const READER = [
  'import sys',
  'fifo, log = sys.argv[1], sys.argv[2]',
  'while True:',
  '    with open(fifo) as f: data = f.read()',
  '    with open(log, "a") as out: out.write(repr(data) + "\\n")',
].join('\n');

function wchan(pid: number | undefined): string {
  try {
    return readFileSync(`/proc/${pid}/wchan`, 'utf8');
  } catch {
    return '';
  }
}

describe("the terminals root tells a user on are the user's ttys, opened only once checked", () => {
  const account = throwawayUser('restartd-tty');
  const { home, asUser, start } = account;

  /** A FIFO of the user's with its reader; `openings()` is what the reader saw after the control writer. */
  async function watchedFifo(name: string): Promise<{ path: string; openings(): Promise<string[]> }> {
    const path = `${home}/${name}`;
    const log = `${home}/${name}.log`;
    execFileSync('setpriv', asUser(['mkfifo', path]).slice(1));
    const reader = start(asUser(['/usr/bin/python3', '-c', READER, path, log]));
    // Waiting in open(2) for a writer: from here on an opening by root would show.
    await until(() => wchan(reader.pid) === 'wait_for_partner', 'the reader in open', 10_000);
    return {
      path,
      async openings() {
        // Woken by an opening, the reader notes it down before it is back in open(2): only then the control.
        await until(() => wchan(reader.pid) === 'wait_for_partner', 'the reader back in open', 10_000);
        const fd = openSync(path, constants.O_WRONLY);
        writeSync(fd, 'control');
        closeSync(fd);
        await until(() => existsSync(log) && readFileSync(log, 'utf8').includes("'control'"), 'the reader', 10_000);
        return readFileSync(log, 'utf8').trim().split('\n');
      },
    };
  }

  it('a FIFO named as a terminal is not opened (a device or FIFO is opened only once it is a tty of hers)', async () => {
    const fifo = await watchedFifo('named.fifo');
    expect(writeToTerminals([{ path: fifo.path, name: '/dev/pts/0' }], account.uid(), 'restartd: to a FIFO\r\n')).toEqual([]);
    expect(await fifo.openings()).toEqual(["'control'"]);
  });

  /**
   * Her program on a pty of hers, open to messages (its controlling tty, /dev/pts/N), the master
   * held by her: read into `master.log`, or never read with the pty's output stopped (^S). `inside`
   * runs in the program's shell before it execs sleep (in a user and mount namespace of hers if `unshare`).
   */
  async function herProgram(label: string, options: { unshare?: boolean; stopped?: boolean; inside?: string }): Promise<{ pid: number; tty: string; master(): string }> {
    const dir = `${home}/${label}`;
    execFileSync('setpriv', asUser(['mkdir', dir]).slice(1));
    const shell = ['sh', '-c', `${options.inside ?? 'true'} && echo $$ > ${dir}/pid && exec sleep infinity`];
    const script = [
      'import fcntl, json, os, signal, sys, termios',
      'dir, argv, stopped = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3] == "1"',
      'm, s = os.openpty(); name = os.ttyname(s); os.chmod(name, 0o620)',
      'if stopped: termios.tcflow(s, termios.TCOOFF)',
      'open(dir + "/tty", "w").write(name)',
      'if os.fork() == 0:',
      '    os.setsid(); fcntl.ioctl(s, termios.TIOCSCTTY, 0)',
      '    for fd in (0, 1, 2): os.dup2(s, fd)',
      '    os.execvp(argv[0], argv)',
      'out = open(dir + "/master.log", "ab", 0)',
      'while True:',
      '    if stopped: signal.pause()',
      '    out.write(os.read(m, 4096))',
    ].join('\n');
    const argv = options.unshare === true ? ['unshare', '-Urm', ...shell] : shell;
    start(asUser(['/usr/bin/python3', '-c', script, dir, JSON.stringify(argv), options.stopped === true ? '1' : '0']));
    await until(() => existsSync(`${dir}/pid`) && readFileSync(`${dir}/pid`, 'utf8').endsWith('\n'), `her program (${label})`, 10_000);
    const master = (): string => (existsSync(`${dir}/master.log`) ? readFileSync(`${dir}/master.log`, 'utf8') : '');
    return { pid: Number(readFileSync(`${dir}/pid`, 'utf8')), tty: readFileSync(`${dir}/tty`, 'utf8'), master };
  }

  it('her program on her own pty: its controlling tty is found and told (the control)', async () => {
    const program = await herProgram('plain', {});
    expect(terminalsOf([program.pid])).toEqual([expect.objectContaining({ name: program.tty })]);
    expect(writeToTerminals(terminalsOf([program.pid]), account.uid(), 'restartd: on her own pty\r\n')).toEqual([program.tty]);
    await until(() => program.master().includes('restartd: on her own pty'), 'the line on her pty', 10_000);
  });

  it("her program in a user and mount namespace of hers (unshare -Urm), a FIFO bound over its controlling tty: root opens nothing there", async () => {
    const fifo = await watchedFifo('bound.fifo');
    const program = await herProgram('ns', { unshare: true, inside: `mount --bind ${fifo.path} $(tty)` });
    expect(writeToTerminals(terminalsOf([program.pid]), account.uid(), 'restartd: through her namespace\r\n')).toEqual([]);
    expect(await fifo.openings()).toEqual(["'control'"]);
    // Her pty itself, reached where root sees it, is hers and open to messages: told there.
    expect(writeToTerminals([{ path: program.tty, name: program.tty }], account.uid(), 'restartd: on her pty\r\n')).toEqual([program.tty]);
  });

  it('a pty whose output is stopped (^S) and whose master is never read: the write fails at once, it does not wait', async () => {
    const program = await herProgram('stopped', { stopped: true });
    const line = `restartd: ${'x'.repeat(1024)}\r\n`;
    // Up to a full buffer and beyond: every write after the first that cannot go out is refused (EAGAIN), none waits.
    const told = Array.from({ length: 64 }, () => writeToTerminals(terminalsOf([program.pid]), account.uid(), line));
    expect(told.at(-1)).toEqual([]);
  });
});

describe("a user's session bus that accepts and never answers", () => {
  it('the notification fails with a clear BUS error after its timeout, it does not wait on', async () => {
    const scratch = scratchRoot('tell-stall');
    const held: Socket[] = [];
    // Takes the connection and the auth line, says nothing back: a bus that stalls.
    const server = createServer((socket) => {
      held.push(socket);
      socket.on('data', () => undefined);
    });
    const path = `${scratch.root}/bus`;
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      const sent = sendDesktopNotification(`unix:path=${path}`, { appName: 'restartd', summary: 's', body: 'b', timeoutMs: 500 }, '/run/user/1/bus');
      await expect(sent).rejects.toMatchObject({ code: 'BUS', message: 'Notify on /run/user/1/bus: no answer after 500 ms' });
      expect(held.length).toBeGreaterThan(0);
    } finally {
      for (const socket of held) socket.destroy();
      server.close();
      scratch.remove();
    }
  });
});
