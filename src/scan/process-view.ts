import { mntNsRead } from './native-scan.js';
import type { ProcReader } from './proc-reader.js';
import type { ProcessImage, ScanResult } from '../types/process.js';

/** How the paths a process holds are looked at from here. */
export interface ProcessView {
  /** Put before a held path to reach the file the process sees there: "" for the scanner's own view. */
  prefix: string;
  /** Names the view: processes with the same key see the same files at the same paths. */
  key: string;
}

const OWN_VIEW: ProcessView = { prefix: '', key: '' };

/**
 * The view of `image`'s paths. A process sees what the scanner sees only when it shares both the
 * mount namespace and the root directory; otherwise its paths are walked through /proc/PID/root,
 * which resolves them in its own namespace's mounts. Views are keyed by (mount namespace, root
 * identity), never by root identity alone (a private namespace may share the root directory
 * and still mount other files over it). Costs one readlink of ns/mnt per process, kept in `image.mntNs`.
 */
export function viewOf(reader: ProcReader, image: ProcessImage, self: ScanResult['self']): ProcessView {
  const prefix = reader.path(image.pid, 'root');
  if (!reader.live || image.rootId === undefined) return { prefix, key: prefix };
  if (mntNsOf(reader, image) === null) return { prefix, key: prefix };
  if (image.mntNs === self.mntNs && image.rootId === self.rootId) return OWN_VIEW;
  return { prefix, key: `${image.mntNs}|${image.rootId}` };
}

/**
 * A process's mount namespace link ("mnt:[4026531841]"), or null when unreadable: read once and kept
 * in `image.mntNs`; read already with the rest of the process when the native scan loop read it.
 */
export function mntNsOf(reader: ProcReader, image: ProcessImage): string | null {
  image.mntNs ??= (mntNsRead.has(image) ? mntNsRead.get(image) : reader.tryLink(image.pid, 'ns/mnt')) ?? null;
  return image.mntNs;
}

/** The scanner's own namespace and root, as viewOf compares them (ScanResult.self). */
export function scannerSelf(reader: ProcReader): ScanResult['self'] {
  return {
    pid: reader.live ? process.pid : -1,
    mntNs: reader.live ? (reader.tryLink('self', 'ns/mnt') ?? null) : null,
    rootId: reader.live ? reader.identity('self', 'root') : undefined,
  };
}
