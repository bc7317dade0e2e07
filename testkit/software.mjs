// software.mjs - the small piece of software every workload runs, independent of how it is
// installed: its files (paths relative to a generation's tree), what generation 2 changes,
// the roles, and which files each role's daemon holds.

/** Every file of a generation, in build order (libraries before the binaries linked to them). */
export const FILES = [
  'lib/libfoo.so.1',
  'lib/libbar.so.1',
  'lib/libz.so.1', // a copy of the system's zlib
  'lib/plugins/libplug.so',
  'lib/plugins/libplug-stable.so',
  'bin/appd', // linked to libfoo, libbar, libz
  'bin/execd', // linked to libbar
  'bin/stabled', // linked to libbar
  'share/config.dat',
  'share/table.dat',
  'share/static.dat',
];

/** Files whose content differs in generation 2. */
export const CHANGED = new Set([
  'lib/libfoo.so.1',
  'lib/libz.so.1', // gen 2: the same copy with trailing bytes (ld.so ignores them)
  'lib/plugins/libplug.so',
  'bin/execd',
  'share/config.dat',
  'share/table.dat',
]);

/** Daemon roles, assigned round-robin; 'clean' is spread in by the clean ratio. */
export const ROLES = ['lib', 'exe', 'fd', 'plugin', 'mmap'];

const STATIC = 'share/static.dat'; // every daemon keeps it open; it never changes

/** What each role's daemon holds: its executable, libraries (RUNPATH), fds, mappings, plugins. */
const HOLDS = {
  lib: { exe: 'bin/appd', libs: ['lib/libfoo.so.1', 'lib/libbar.so.1', 'lib/libz.so.1'] },
  exe: { exe: 'bin/execd', libs: ['lib/libbar.so.1'] },
  fd: { exe: 'bin/stabled', libs: ['lib/libbar.so.1'], open: ['share/config.dat'] },
  plugin: { exe: 'bin/stabled', libs: ['lib/libbar.so.1'], dlopen: ['lib/plugins/libplug.so'] },
  mmap: { exe: 'bin/stabled', libs: ['lib/libbar.so.1'], mmap: ['share/table.dat'] },
  clean: { exe: 'bin/stabled', libs: ['lib/libbar.so.1'], dlopen: ['lib/plugins/libplug-stable.so'] },
};

/** Every file (relative) a daemon of this role holds; the supervisor holds none. */
export function heldFiles(role) {
  const h = HOLDS[role];
  if (!h) return [];
  return [h.exe, ...h.libs, ...(h.open ?? []), ...(h.mmap ?? []), ...(h.dlopen ?? []), STATIC];
}

/**
 * The command line of one daemon, with files taken from `base` (the tree processes are
 * started from). `nth` counts daemons of the same role: every other mmap daemon maps
 * MAP_SHARED instead of MAP_PRIVATE (both read-only).
 */
export function daemonCommand(role, base, nth) {
  const h = HOLDS[role];
  const at = (rel) => `${base}/${rel}`;
  const args = ['--role', role, '--open', at(STATIC)];
  for (const f of h.open ?? []) args.push('--open', at(f));
  for (const f of h.mmap ?? []) args.push(nth % 2 ? '--mmap-shared' : '--mmap', at(f));
  for (const f of h.dlopen ?? []) args.push('--dlopen', at(f));
  return [at(h.exe), ...args];
}

/** Roles of `n` daemons: round-robin over ROLES, with floor(n * cleanRatio) 'clean' spread evenly. */
export function assignRoles(n, cleanRatio = 0) {
  const roles = [];
  let k = 0;
  for (let i = 0; i < n; i++) {
    const clean = Math.floor((i + 1) * cleanRatio + 1e-9) > Math.floor(i * cleanRatio + 1e-9);
    roles.push(clean ? 'clean' : ROLES[k++ % ROLES.length]);
  }
  return roles;
}
