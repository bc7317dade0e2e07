import { closeSync, lstatSync, readdirSync, readlinkSync, realpathSync, statSync, type Dirent, type Stats } from 'node:fs';
import { mayRead, openRegular, readAt, type Reader } from '../safe-fs/read-regular.js';
import type { PathView } from './python-module.js';

const MAX_LINKS = 40;

/**
 * The filesystem as one process sees it: paths are the process's, read through `prefix` ("" when
 * it shares our root and mount namespace, else /proc/PID/root). Only stat, readdir, readlink and
 * bounded reads of regular files: nothing here runs or loads what it looks at. Answers are cached
 * for the scan (many processes share a tree).
 */
export class RootView implements PathView {
  private readonly stats = new Map<string, Stats | null>();
  private readonly lstats = new Map<string, Stats | null>();

  constructor(readonly prefix: string) {}

  /** stat() following symlinks; through another root each link is resolved inside that root. */
  stat(path: string): Stats | null {
    if (this.prefix !== '') {
      const real = this.resolveWithin(path);
      return real === undefined ? null : this.lstat(real);
    }
    return cached(this.stats, path, () => statSync(path, { throwIfNoEntry: false }));
  }

  lstat(path: string): Stats | null {
    return cached(this.lstats, path, () => lstatSync(this.prefix + path, { throwIfNoEntry: false }));
  }

  kind(path: string): 'file' | 'dir' | undefined {
    const st = this.stat(path);
    return st?.isFile() ? 'file' : st?.isDirectory() ? 'dir' : undefined;
  }

  list(dir: string): string[] {
    try {
      return readdirSync(this.prefix + dir);
    } catch {
      return [];
    }
  }

  entries(dir: string): Dirent[] {
    try {
      return readdirSync(this.prefix + dir, { withFileTypes: true });
    } catch {
      return [];
    }
  }

  /**
   * The path with every symlink resolved inside the process's root (an absolute link target is the
   * process's "/", not ours); undefined when it does not resolve.
   */
  realpath(path: string): string | undefined {
    if (this.prefix === '') {
      try {
        return realpathSync(path);
      } catch {
        return undefined;
      }
    }
    return this.resolveWithin(path);
  }

  private resolveWithin(path: string): string | undefined {
    const pending = path.split('/').filter(Boolean).reverse();
    const done: string[] = [];
    let links = 0;
    while (pending.length > 0) {
      const part = pending.pop() as string;
      if (part === '.') continue;
      if (part === '..') {
        done.pop();
        continue;
      }
      const candidate = `/${[...done, part].join('/')}`;
      const st = this.lstat(candidate);
      if (!st) return undefined;
      if (!st.isSymbolicLink()) {
        done.push(part);
        continue;
      }
      if (++links > MAX_LINKS) return undefined;
      let target: string;
      try {
        target = readlinkSync(this.prefix + candidate, 'utf8');
      } catch {
        return undefined;
      }
      if (target.startsWith('/')) done.length = 0;
      pending.push(...target.split('/').filter(Boolean).reverse());
    }
    return `/${done.join('/')}`;
  }

  /**
   * The first `maxBytes` of a regular file, as latin1 text. Opened non-blocking and checked with
   * fstat, so a FIFO or device planted at the path can't stall the scan; with `as`, only when that
   * reader's mode bits allow it.
   */
  readHead(path: string, maxBytes: number, as?: Reader): string | undefined {
    // `path` is resolved already (realpath): a link at its end now is a swap, not followed.
    const opened = openRegular(this.prefix + path);
    if (!opened.ok) return undefined;
    try {
      // Root reads what the target could read, nothing more (`perl /etc/shadow` by a user reads nothing).
      if (as !== undefined && !mayRead(opened.stat, as)) return undefined;
      const buffer = Buffer.allocUnsafe(maxBytes);
      return buffer.toString('latin1', 0, readAt(opened.fd, buffer, 0));
    } catch {
      return undefined;
    } finally {
      closeSync(opened.fd);
    }
  }
}

function cached(cache: Map<string, Stats | null>, path: string, read: () => Stats | undefined): Stats | null {
  let st = cache.get(path);
  if (st === undefined) {
    try {
      st = read() ?? null;
    } catch {
      st = null;
    }
    cache.set(path, st);
  }
  return st;
}
