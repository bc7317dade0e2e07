import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FixtureProcess {
  pid: number;
  comm?: string;
  ppid?: number;
  startTime?: number;
  /** PF_KTHREAD etc. */
  flags?: number;
  state?: string;
  uid?: number;
  /** Entries written verbatim as files; a value of null leaves the entry out (a process gone mid-scan). */
  maps?: string | null;
  cgroup?: string;
  exe?: string;
  cwd?: string;
  /** Where /proc/PID/root points: a directory of the fixture (a container's filesystem). */
  root?: string;
  mntNs?: string;
  fds?: Record<number, string>;
  fdinfo?: Record<number, string>;
  /** map_files entries: range -> file holding the mapped (old) bytes. */
  mapFiles?: Record<string, string>;
  /** Extra raw entries (name -> content); a directory where a file should be makes the read fail. */
  brokenEntries?: string[];
}

/** A procfs tree on disk, laid out like /proc, for what live processes can't produce. */
export class ProcFixture {
  readonly dir = mkdtempSync(join(tmpdir(), 'restartd-proc-'));
  readonly proc = join(this.dir, 'proc');
  readonly fs = join(this.dir, 'fs');

  constructor() {
    mkdirSync(this.proc);
    mkdirSync(this.fs);
  }

  /** Writes a file into the fixture filesystem and returns its path inside it and its inode. */
  file(path: string, content: string): { path: string; ino: number; host: string } {
    const host = join(this.fs, path);
    mkdirSync(join(host, '..'), { recursive: true });
    writeFileSync(host, content);
    return { path, ino: statSync(host).ino, host };
  }

  add(p: FixtureProcess): void {
    const d = join(this.proc, String(p.pid));
    mkdirSync(d);
    const comm = p.comm ?? `proc${p.pid}`;
    const fields = [p.state ?? 'S', p.ppid ?? 1, p.pid, p.pid, 0, -1, p.flags ?? 4194560, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 1, 0, p.startTime ?? 1000 + p.pid];
    writeFileSync(join(d, 'stat'), `${p.pid} (${comm}) ${fields.join(' ')} 0 0\n`);
    writeFileSync(join(d, 'status'), `Name:\t${comm}\nUid:\t${p.uid ?? 0}\t${p.uid ?? 0}\t${p.uid ?? 0}\t${p.uid ?? 0}\n`);
    if (p.maps !== null) writeFileSync(join(d, 'maps'), p.maps ?? '');
    writeFileSync(join(d, 'cgroup'), p.cgroup ?? '0::/system.slice/fixture.service\n');
    if (p.exe !== undefined) symlinkSync(p.exe, join(d, 'exe'));
    symlinkSync(p.cwd ?? '/', join(d, 'cwd'));
    symlinkSync(p.root ?? this.fs, join(d, 'root'));
    mkdirSync(join(d, 'ns'));
    symlinkSync(p.mntNs ?? 'mnt:[4026531841]', join(d, 'ns', 'mnt'));
    mkdirSync(join(d, 'fd'));
    mkdirSync(join(d, 'fdinfo'));
    for (const [n, target] of Object.entries(p.fds ?? {})) symlinkSync(target, join(d, 'fd', n));
    for (const [n, text] of Object.entries(p.fdinfo ?? {})) writeFileSync(join(d, 'fdinfo', n), text);
    mkdirSync(join(d, 'map_files'));
    for (const [range, file] of Object.entries(p.mapFiles ?? {})) symlinkSync(file, join(d, 'map_files', range));
    for (const name of p.brokenEntries ?? []) {
      rmSync(join(d, name), { force: true });
      mkdirSync(join(d, name));
    }
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One maps line, padded like the kernel pads it. */
export function mapsLine(range: string, perms: string, ino: number, name: string, dev = 'fe:00'): string {
  const head = `${range} ${perms} 00000000 ${dev} ${ino}`;
  return `${head.padEnd(73)}${name}\n`;
}
