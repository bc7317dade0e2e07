import { execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { detectStale } from '../src/detect.js';
import { readHeadsAs } from '../src/interp/read-as-target.js';
import { diffGenerations } from '../src/generation/index.js';
import { until } from './support/live-process.js';
import { throwawayUser } from './support/throwaway-user.js';

// A throwaway user runs perl programs whose `use lib` line names a library dir; the program file is
// then closed to the user by an ACL, or its dir by mode. restartd (root) reads a program's head only
// as its process could: what the user can no longer read reveals no library dir, so the changed
// module there is not found through it.
describe("an interpreted program's source is read with its process's credentials (ACLs, search permission)", () => {
  const account = throwawayUser('restartd-read');
  const { scratch, asUser, start } = account;
  const v1 = `${scratch.root}/v1`;
  const v2 = `${scratch.root}/v2`;
  const programs = { open: 'open/prog.pl', acl: 'acl/prog.pl', hidden: 'hidden/prog.pl' } as const;
  const apps: Partial<Record<keyof typeof programs, ChildProcess>> = {};

  beforeAll(async () => {
    // Each program's library dir is outside the program's own tree: only its `use lib` line leads there.
    for (const [name, rel] of Object.entries(programs)) {
      mkdirSync(`${v1}/${name}`, { recursive: true, mode: 0o755 });
      mkdirSync(`${v1}/lib-${name}`, { recursive: true, mode: 0o755 });
      writeFileSync(`${v1}/lib-${name}/Mod.pm`, 'package Mod; 1;\n', { mode: 0o644 });
      writeFileSync(`${v1}/${rel}`, `use lib '${v1}/lib-${name}';\nsleep 600;\n`, { mode: 0o644 });
    }
    cpSync(v1, v2, { recursive: true });
    for (const name of Object.keys(programs)) writeFileSync(`${v2}/lib-${name}/Mod.pm`, 'package Mod; our $V = 2; 1;\n');
    for (const [name, rel] of Object.entries(programs) as Array<[keyof typeof programs, string]>) {
      apps[name] = start(asUser(['/usr/bin/perl', `${v1}/${rel}`]));
    }
    // Wait until perl has read its program (it sleeps then), then take the user's access away.
    await until(() => Object.values(apps).every((app) => readFileSync(`/proc/${app?.pid ?? 0}/wchan`, 'latin1').includes('nanosleep')), 'the programs to sleep', 3000);
    // Readable by mode bits (0644, "other" may read), denied to the user by a named-user ACL entry.
    execFileSync('setfacl', ['-m', `u:${account.name}:---`, `${v1}/${programs.acl}`]);
    // The file itself stays 0644, its dir is closed to everyone but root: no search permission.
    chmodSync(`${v1}/hidden`, 0o700);
  }, 120_000);
  it('the ACL denies and the dir hides what the mode bits allow: those heads are not read; the open one is, as the user', async () => {
    // The user is really locked out (as the kernel judges), though the mode bits say "other" may read.
    for (const rel of [programs.acl, programs.hidden]) {
      expect(readFileSync(`${v1}/${rel}`).length).toBeGreaterThan(0);
      expect(() => execFileSync('setpriv', asUser(['cat', `${v1}/${rel}`]).slice(1), { stdio: 'ignore' })).toThrow();
    }
    const changeSet = await diffGenerations(v1, v2, { source: 'dir' });
    const { stale } = await detectStale({ changeSet, pids: Object.values(apps).map((app) => app?.pid ?? 0) });
    const staleFilesOf = (name: keyof typeof programs): string[] => (stale.find((p) => p.pid === apps[name]?.pid)?.files ?? []).map((f) => f.path);
    // The open program's head was read (by a child with the user's credentials): its library is found.
    expect(staleFilesOf('open')).toContain(`${v1}/lib-open/Mod.pm`);
    // The closed ones revealed nothing: their libraries are not looked at.
    expect(staleFilesOf('acl')).not.toContain(`${v1}/lib-acl/Mod.pm`);
    expect(staleFilesOf('hidden')).not.toContain(`${v1}/lib-hidden/Mod.pm`);
  }, 120_000);

  it("readHeadsAs: one child with the user's credentials reads what they may, nothing else (FIFOs, links, unknown credentials)", () => {
    const uid = account.uid();
    const gid = Number(execFileSync('id', ['-g', account.name], { encoding: 'utf8' }).trim());
    execFileSync('mkfifo', [`${scratch.root}/fifo.pl`]);
    chmodSync(`${scratch.root}/fifo.pl`, 0o666);
    execFileSync('ln', ['-s', `${v1}/${programs.open}`, `${scratch.root}/link.pl`]);
    const asTarget = { uid, gids: [gid] };
    const heads = readHeadsAs(
      [
        { pid: 1, path: `${v1}/${programs.open}`, reader: asTarget },
        { pid: 2, path: `${v1}/${programs.acl}`, reader: asTarget },
        { pid: 3, path: `${v1}/${programs.hidden}`, reader: asTarget },
        { pid: 4, path: `${scratch.root}/fifo.pl`, reader: asTarget },
        { pid: 5, path: `${scratch.root}/link.pl`, reader: asTarget },
        { pid: 6, path: `${v1}/${programs.open}`, reader: undefined },
        { pid: 7, path: `${v1}/${programs.acl}`, reader: { uid: 0, gids: [0] } },
      ],
      16,
    );
    const head = `use lib '${v1}`.slice(0, 16);
    expect(Object.fromEntries(heads)).toEqual({ 1: head, 2: null, 3: null, 4: null, 5: null, 6: null, 7: head });
  });
});
