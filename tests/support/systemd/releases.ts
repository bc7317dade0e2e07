import { appendFileSync, copyFileSync, linkSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

/** How a program differs in the next release: `same` is hardlinked (OSTree-style), `changed` is new bytes. */
export type ProgramChange = 'same' | 'changed';

/** A program of a release: a copy of a system binary, so it runs anywhere. */
export interface ProgramSpec {
  from: string;
  /** Source of its next version; default `from`. */
  next?: string;
}

/**
 * Release dirs `ROOT/releases/vN/bin/*` with `ROOT/current -> releases/vN`, switched atomically:
 * the `dir` generation source. Units start `ROOT/current/bin/NAME`; /proc then shows the resolved
 * `ROOT/releases/vN/bin/NAME`. Lives under /srv: restartd ignores deleted files under /tmp and /run.
 */
export class Releases {
  readonly root = mkdtempSync('/srv/restartd-test-releases-');
  readonly current = join(this.root, 'current');
  private version = 0;

  constructor(private readonly programs: Record<string, ProgramSpec>) {
    this.build({});
    symlinkSync('releases/v1', this.current);
  }

  dir(version: number): string {
    return join(this.root, 'releases', `v${version}`);
  }

  bin(name: string, version?: number): string {
    return version === undefined ? join(this.current, 'bin', name) : join(this.dir(version), 'bin', name);
  }

  /** Builds the next release: `changes` names the programs whose bytes change; the rest are hardlinked. */
  build(changes: Record<string, ProgramChange>): number {
    const previous = this.version;
    const version = ++this.version;
    mkdirSync(join(this.dir(version), 'bin'), { recursive: true });
    for (const [name, spec] of Object.entries(this.programs)) {
      const target = this.bin(name, version);
      if (previous === 0) {
        copyFileSync(spec.from, target);
      } else if (changes[name] === 'changed') {
        copyFileSync(spec.next ?? spec.from, target);
        // Trailing bytes: another file, with the same program in it.
        appendFileSync(target, `\nrestartd-test release v${version}\n`);
      } else {
        linkSync(this.bin(name, previous), target);
      }
    }
    return version;
  }

  /** Points `current` at a release, atomically (rename over the link). */
  switchTo(version: number): void {
    const next = `${this.current}.next`;
    symlinkSync(`releases/v${version}`, next);
    renameSync(next, this.current);
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
