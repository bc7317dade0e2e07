/**
 * Names in maps/fd that are never files of installed software: memfd and SYSV shared memory,
 * the aio ring, GPU buffers, hugepage anonymous mappings and pseudo filesystems.
 */
const NEVER_SOFTWARE =
  /^\/(?:memfd:|SYSV[0-9a-fA-F]{8}|\[aio\]|anon_hugepage|drm mm object|i915|dmabuf:|kfd|dev\/|proc\/|sys\/)/;

/** Default scratch locations: a deleted file there is a process's own business, not a stale install. */
export const DEFAULT_SCRATCH_DIRS: readonly string[] = ['/tmp', '/var', '/run', '/dev/shm'];

export function isNeverSoftware(path: string): boolean {
  return NEVER_SOFTWARE.test(path);
}

export function isUnder(path: string, dirs: readonly string[]): boolean {
  for (const dir of dirs) {
    if (path.startsWith(dir) && (path.length === dir.length || path.charCodeAt(dir.length) === 47)) return true;
  }
  return false;
}
