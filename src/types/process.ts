import type { InterpSummary } from './interp.js';

/** How a process holds a file ('script': read by its interpreter as program source, see src/interp). */
export type FileVia = 'exe' | 'map' | 'fd' | 'cwd' | 'script';

/** One file a process holds, as /proc shows it. */
export interface FileRef {
  /** Path as the process sees it (inside its root), unescaped, without the " (deleted)" marker. */
  path: string;
  via: FileVia;
  /** The kernel marked the path "(deleted)": the inode no longer has this name. */
  deleted: boolean;
  /** Device ("major:minor", hex as in maps) and inode of the held file, when known. */
  dev?: string;
  ino?: number;
  /** map: the address range, i.e. the entry name under /proc/PID/map_files; perms string ("r-xp"). */
  range?: string;
  perms?: string;
  /** fd: the descriptor number, and the held file's size. */
  fd?: number;
  size?: number;
}

export interface CgroupEntry {
  hierarchy: string;
  controllers: string;
  path: string;
}

/** What one process holds. See DESIGN.md "ProcessImage". */
export interface ProcessImage {
  pid: number;
  ppid: number;
  /** Field 22 of /proc/PID/stat (clock ticks since boot): with pid, the identity that survives PID reuse. */
  startTime: number;
  comm: string;
  uid: number;
  /** Executable path, without " (deleted)"; null for kernel threads or when unreadable. */
  exe: string | null;
  cwd: string | null;
  /** The process's root directory ("/" unless chrooted or in a container). */
  root: string | null;
  /** Mount namespace identity ("mnt:[4026531841]"). */
  mntNs: string | null;
  /** "dev:ino" of the process's root directory: equal to restartd's own when they see the same "/". */
  rootId?: string;
  cgroup: CgroupEntry[];
  kernelThread: boolean;
  files: FileRef[];
  /** Held files past the per-process cap (MAX_HELD_FILES_PER_PROCESS): counted, not examined. */
  heldFilesNotExamined?: number;
  /** /proc/PID/cmdline, read only when the exe is an interpreter (src/interp). Target-controlled data. */
  argv?: string[];
}

export interface UnreadableProcess {
  pid: number;
  /** What could not be read, and the errno. */
  what: string;
  code: string;
}

export interface ScanResult {
  processes: ProcessImage[];
  /** Processes (or parts of them) that could not be read, e.g. EACCES when not root. */
  unreadable: UnreadableProcess[];
  /** Processes that exited while being scanned. */
  vanished: number;
  /** The scanner itself: its pid, mount namespace and root identity. */
  self: { pid: number; mntNs: string | null; rootId?: string | undefined };
  /** Interpreted programs (src/interp): what was examined, and whether a cap or the time budget was hit. */
  interp?: InterpSummary;
}
