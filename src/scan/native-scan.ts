import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The optional native scan loop (native/proc-scan.c, built by `npm run build` when a C compiler is
 * there): per batch of PIDs it reads stat, exe, the root's identity, maps (one line per mapped
 * file) and the fds, and returns the bytes; the TypeScript scan parses them with its own parsers
 * (scanPids), so what is found is the same with or without it. Absent, unloadable or turned off
 * (RESTARTD_NATIVE_SCAN=0), the scan reads /proc itself.
 */
export interface NativeScan {
  readBatch(procRoot: string, pids: Int32Array, maxHeldFiles: number): [bytes: Buffer, meta: Float64Array];
  /** status and cgroup of one process: the bytes (status first), and each length or -errno. */
  readOwner(procRoot: string, pid: number): [bytes: Buffer, statusLength: number, cgroupLength: number];
}

/** Which read of a process failed (0: none): the stages of native/proc-scan.c. */
export const FAIL = { none: 0, stat: 1, exe: 2, maps: 3, fd: 4 } as const;

/** The record of one PID in `meta`: these fields, then FD_FIELDS numbers per fd kept. */
export const H = {
  pid: 0,
  fail: 1,
  errno: 2,
  statOff: 3,
  statLen: 4,
  readPastStat: 5,
  exeOff: 6,
  exeLen: 7,
  rootOk: 8,
  rootDev: 9,
  rootIno: 10,
  mapsOff: 11,
  mapsLen: 12,
  mapsCount: 13,
  fdOverflow: 14,
  fdCount: 15,
  nsOff: 16,
  nsLen: 17,
} as const;
export const HEADER = 18;
export const F = { num: 0, off: 1, len: 2, statOk: 3, dev: 4, ino: 5, size: 6 } as const;
export const FD_FIELDS = 7;

/** PIDs per native call: big enough to amortise the call, small enough to keep the buffers small. */
export const NATIVE_BATCH = 64;

/** Where `npm run build` puts the addon, from dist/scan, dist/cli (the bundle) and src/scan alike. */
const ADDON = new URL('../../dist/native/proc-scan.node', import.meta.url);

let loaded: NativeScan | null | undefined;

/** The addon, or undefined when it is not built, does not load, or RESTARTD_NATIVE_SCAN=0. */
export function nativeScan(): NativeScan | undefined {
  if (loaded === undefined) loaded = load();
  return loaded ?? undefined;
}

function load(): NativeScan | null {
  if (process.env['RESTARTD_NATIVE_SCAN'] === '0' || ADDON.protocol !== 'file:') return null;
  const path = fileURLToPath(ADDON);
  if (!existsSync(path)) return null;
  try {
    const module = { exports: {} as Partial<NativeScan> };
    process.dlopen(module, path);
    const { readBatch, readOwner } = module.exports;
    return typeof readBatch === 'function' && typeof readOwner === 'function' ? (module.exports as NativeScan) : null;
  } catch {
    // Built for another machine or Node: the TypeScript scan does the same work.
    return null;
  }
}

/**
 * The mount namespace link the native loop read with the rest of a process (null: unreadable),
 * until viewOf asks for it: the image itself gets it only where the TypeScript scan would read it.
 */
export const mntNsRead = new WeakMap<object, string | null>();
