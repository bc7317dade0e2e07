import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { scratchRoot } from './scratch.js';

type Scratch = ReturnType<typeof scratchRoot>;

export interface ThrowawayUser {
  /** A fresh name per run ("PREFIX-xxxxxx"): created in beforeAll, removed in afterAll. */
  name: string;
  /** Their uid, once beforeAll has created them. */
  uid(): number;
  /** A scratch dir (mode 755) holding `home`, theirs. */
  scratch: Scratch;
  home: string;
  /** A command run as them: uid, gid and their groups (setpriv). */
  asUser(command: string[]): string[];
  /** Starts a process (stdio ignored) that afterAll kills. */
  start(command: string[]): ChildProcess;
}

/**
 * An unprivileged user for the tests that attack root-run restartd: registers the vitest hooks
 * that create the user (no home in /home), their home under a scratch dir, and that kill what was
 * started and remove the user and the scratch dir afterwards. Call it inside a describe.
 */
export function throwawayUser(prefix: string): ThrowawayUser {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  const scratch = scratchRoot(prefix);
  const home = `${scratch.root}/home`;
  const children: ChildProcess[] = [];
  let uid: number | undefined;
  beforeAll(() => {
    execFileSync('useradd', ['-M', name]);
    uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
    mkdirSync(home);
    chmodSync(scratch.root, 0o755);
    execFileSync('chown', [`${name}:${name}`, home]);
  });
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
    scratch.remove();
    try {
      execFileSync('userdel', [name], { stdio: 'ignore' });
    } catch {
      // gone all the same
    }
  });
  return {
    name,
    uid: () => {
      if (uid === undefined) throw new Error(`${name} is created in beforeAll`);
      return uid;
    },
    scratch,
    home,
    asUser: (command) => ['setpriv', `--reuid=${name}`, `--regid=${name}`, '--init-groups', ...command],
    start: (command) => {
      const child = spawn(command[0] ?? 'false', command.slice(1), { stdio: 'ignore' });
      children.push(child);
      return child;
    },
  };
}
