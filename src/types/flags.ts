/** The CLI's commands, in the order --help lists them. */
export const COMMANDS = [
  {
    name: 'status',
    synopsis: 'status [--json|--prometheus]',
    help: 'the whole picture: stale processes by owner and what the policy would do, reboot tier and why, generations and their disk, update-aware apps, the last runs',
  },
  { name: 'diff', synopsis: 'diff OLD NEW [--json]', help: 'what changed between two generations' },
  {
    name: 'plan',
    synopsis: 'plan [--old OLD --new NEW] [--json]',
    help: 'stale processes (after switching from OLD to NEW, or on the live system without them) and what would be done per owner (unit facts from the bus when it answers)',
  },
  {
    name: 'apply',
    synopsis: 'apply [--old OLD --new NEW [--link LINK --rollback]] [--dry-run] [--json]',
    help: 'carry the plan out through systemd, then verify by re-scanning; journaled: run it again after a crash to finish the job. Without --old/--new: act on what `restartd status` shows',
  },
  {
    name: 'hook',
    synopsis: 'hook [--old OLD --new NEW]',
    help: 'the entry a package manager calls (or RESTARTD_OLD/RESTARTD_NEW): records the switch, folds repeated calls into one, carries it out under the lock; RESTARTD_SUSPEND=1: record only',
  },
  { name: 'watch', synopsis: 'watch --link PATH', help: 'follow a current/profile link: one apply per settled switch' },
] as const;

export type CommandName = (typeof COMMANDS)[number]['name'];

/** Groups of flags, in the order --help lists them. */
export const FLAG_GROUPS = {
  generation: 'generation options',
  output: 'output options',
  status: 'status options',
  systemd: 'systemd options',
  state: 'state options',
  fleet: 'fleet options',
  aware: 'update-aware options',
  other: 'other options',
} as const;

export interface FlagSpec {
  name: string;
  /** `seconds`: a number >= 0 on the command line, milliseconds in the request. */
  type: 'boolean' | 'string' | 'seconds';
  /** The request field it sets (`fleet.endpoints`: a field of `fleet`); none: the CLI's own. */
  key?: string;
  /** Given more than once: every value is kept. */
  multiple?: boolean;
  short?: string;
  /** What the value is, as --help shows it (`--wait SECONDS`). */
  value?: string;
  /** The values it takes, for completion and the error that names them. */
  choices?: readonly string[];
  /** What a path value is, for completion: a file or a directory. */
  completes?: 'file' | 'dir';
  help: string;
  group: keyof typeof FLAG_GROUPS;
  /** The commands it applies to; elsewhere it is accepted with a warning that it has no effect. */
  commands: readonly CommandName[] | 'all';
  /** The detached `hook --foreground` child gets it as given. */
  forward?: boolean;
}

const SWITCH: readonly CommandName[] = ['apply', 'hook', 'watch'];
const SCANNING: readonly CommandName[] = ['status', 'plan', 'apply', 'hook', 'watch'];

/**
 * Every flag of the CLI, once: the parser, --help, the hook child's argv, the man page and the
 * shell completions are all generated from this table.
 */
export const FLAGS: readonly FlagSpec[] = [
  { name: 'old', key: 'old', type: 'string', value: 'OLD', completes: 'file', group: 'generation', commands: ['plan', 'apply', 'hook'], help: 'the generation switched from (a release dir, a Nix profile generation, a manifest)' },
  { name: 'new', key: 'new', type: 'string', value: 'NEW', completes: 'file', group: 'generation', commands: ['plan', 'apply', 'hook'], help: 'the generation switched to' },
  { name: 'source', key: 'source', type: 'string', value: 'KIND', choices: ['dir', 'nix', 'manifest'], group: 'generation', commands: ['diff', 'plan', 'apply', 'hook', 'watch'], help: 'how to read OLD and NEW (default: detected from the path)' },
  { name: 'store-dir', key: 'storeDir', type: 'string', value: 'DIR', completes: 'dir', group: 'generation', commands: ['status', 'diff', 'plan', 'apply', 'hook', 'watch'], help: 'nix store directory (default /nix/store)' },
  { name: 'json', type: 'boolean', group: 'output', commands: ['status', 'diff', 'plan', 'apply'], help: 'one JSON object (schemas/*.schema.json)' },
  { name: 'prometheus', type: 'boolean', group: 'status', commands: ['status'], help: 'node_exporter textfile-collector format' },
  { name: 'generations', key: 'generations', type: 'string', multiple: true, value: 'PATH', completes: 'file', group: 'status', commands: ['status'], help: 'a Nix profile, OSTree deployments dir or release dir (repeatable; default: /nix/var/nix/profiles/system and /ostree/deploy, if present)' },
  { name: 'modules-dir', key: 'modulesDirs', type: 'string', multiple: true, value: 'DIR', completes: 'dir', group: 'status', commands: ['status'], help: 'where installed kernels are (repeatable; default /lib/modules)' },
  { name: 'booted-root', key: 'bootedRoot', type: 'string', value: 'DIR', completes: 'dir', group: 'status', commands: ['status'], help: "the booted deployment's root, to mark it (default /)" },
  { name: 'booted-system', key: 'bootedSystem', type: 'string', value: 'PATH', completes: 'file', group: 'status', commands: ['status'], help: "NixOS' booted system link (default /run/booted-system)" },
  { name: 'bus', key: 'busAddress', type: 'string', value: 'ADDRESS', group: 'systemd', commands: SCANNING, forward: true, help: "systemd's bus (default $DBUS_SYSTEM_BUS_ADDRESS, then the system bus)" },
  { name: 'config', key: 'config', type: 'string', value: 'PATH', completes: 'file', group: 'systemd', commands: SCANNING, forward: true, help: "restartd's config (default /etc/restartd/config.json, if present)" },
  { name: 'dry-run', key: 'dryRun', type: 'boolean', group: 'systemd', commands: ['apply'], help: 'print "would …" from the same plan, change nothing (no bus needed)' },
  { name: 'state-dir', key: 'stateDir', type: 'string', value: 'DIR', completes: 'dir', group: 'state', commands: ['status', 'apply', 'hook', 'watch'], forward: true, help: 'journal, lock and pending switch (default /var/lib/restartd)' },
  { name: 'wait', key: 'waitMs', type: 'seconds', value: 'SECONDS', group: 'state', commands: ['apply'], help: "wait for another run's lock (default 0: exit 6 at once)" },
  { name: 'retry', key: 'retry', type: 'boolean', group: 'state', commands: ['apply'], help: 'run again what an earlier run of the same switch did but left still stale (a re-run otherwise reports it failed, exit 5)' },
  { name: 'max-wait', key: 'maxWaitMs', type: 'seconds', value: 'SECONDS', group: 'state', commands: ['hook'], help: 'hold the package manager at most this long (default 30); the rest goes on detached, output in STATE/hook.log' },
  { name: 'foreground', key: 'foreground', type: 'boolean', group: 'state', commands: ['hook'], help: 'carry the pending switches out in this process' },
  { name: 'link', key: 'link', type: 'string', value: 'PATH', completes: 'file', group: 'state', commands: ['plan', ...SWITCH], forward: true, help: 'watch: the current/profile link to follow; apply, hook (or RESTARTD_LINK): the link that points at NEW, which --rollback flips back to OLD; plan: says what a rollback would do' },
  { name: 'rollback', key: 'rollback', type: 'boolean', group: 'state', commands: ['plan', ...SWITCH], forward: true, help: 'a restart, reload or start onto NEW failed: flip --link back to OLD, restart onto OLD every unit the run restarted, verify (exit 8); default: the config\'s rollback.on. plan, apply --dry-run: say what it would do' },
  { name: 'debounce', key: 'debounceMs', type: 'seconds', value: 'SECONDS', group: 'state', commands: ['watch'], help: 'quiet time before a switch counts as settled (default 2)' },
  { name: 'fleet', key: 'fleet.endpoints', type: 'string', value: 'URL[,URL…]', group: 'fleet', commands: SWITCH, forward: true, help: 'etcd client endpoints: at most K hosts restart the same unit (or config group) at once; a host that dies frees its slot when its lease expires. Without it: a single host, no etcd needed' },
  { name: 'fleet-ca', key: 'fleet.ca', type: 'string', value: 'FILE', completes: 'file', group: 'fleet', commands: SWITCH, forward: true, help: 'TLS to etcd: the CA (PEM)' },
  { name: 'fleet-cert', key: 'fleet.cert', type: 'string', value: 'FILE', completes: 'file', group: 'fleet', commands: SWITCH, forward: true, help: 'TLS to etcd: the client certificate (PEM)' },
  { name: 'fleet-key', key: 'fleet.key', type: 'string', value: 'FILE', completes: 'file', group: 'fleet', commands: SWITCH, forward: true, help: "TLS to etcd: the client certificate's key (PEM)" },
  { name: 'fleet-user', key: 'fleet.user', type: 'string', value: 'USER', group: 'fleet', commands: SWITCH, forward: true, help: 'etcd auth user' },
  { name: 'fleet-password-file', key: 'fleet.passwordFile', type: 'string', value: 'FILE', completes: 'file', group: 'fleet', commands: SWITCH, forward: true, help: 'etcd auth password, read from FILE (never from the command line)' },
  { name: 'fleet-slots', key: 'fleet.slots', type: 'string', value: 'K', group: 'fleet', commands: SWITCH, forward: true, help: "K, over the config's fleet.slots (default 1)" },
  { name: 'fleet-host', key: 'fleet.host', type: 'string', value: 'NAME', group: 'fleet', commands: SWITCH, forward: true, help: "this host's name in the fleet (default: hostname and machine-id)" },
  { name: 'fleet-optional', key: 'fleet.optional', type: 'boolean', group: 'fleet', commands: SWITCH, forward: true, help: 'etcd unreachable: warn and run as a single host (default: exit 3, nothing restarted)' },
  { name: 'aware-dir', key: 'awareDirs', type: 'string', multiple: true, value: 'DIR', completes: 'dir', group: 'aware', commands: SCANNING, forward: true, help: "registration dir (repeatable; default /run/restartd/aware.d and each user's $XDG_RUNTIME_DIR/restartd/aware.d)" },
  { name: 'proc-root', key: 'procRoot', type: 'string', value: 'DIR', completes: 'dir', group: 'other', commands: SCANNING, forward: true, help: 'read processes from DIR instead of /proc' },
  { name: 'help', type: 'boolean', short: 'h', group: 'other', commands: 'all', help: 'this help' },
  { name: 'version', type: 'boolean', group: 'other', commands: 'all', help: "restartd's version" },
];

export function appliesTo(flag: FlagSpec, command: string): boolean {
  return flag.commands === 'all' || (flag.commands as readonly string[]).includes(command);
}

/** `--name VALUE` as --help shows it. */
export function flagLabel(flag: FlagSpec): string {
  const value = flag.choices === undefined ? flag.value : flag.choices.join('|');
  return `${flag.short === undefined ? '' : `-${flag.short}, `}--${flag.name}${value === undefined ? '' : ` ${value}`}`;
}

/** A request field by its flag's key (`fleet.endpoints` reads `request.fleet.endpoints`). */
export function valueAt(request: object, key: string): unknown {
  let value: unknown = request;
  for (const part of key.split('.')) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[part] : undefined;
  return value;
}

/** The argv that gives a child (the detached hook) the forwarded flags with the request's values. */
export function forwardedArgv(request: object): string[] {
  const argv: string[] = [];
  for (const flag of FLAGS) {
    if (flag.forward !== true || flag.key === undefined) continue;
    const value = valueAt(request, flag.key);
    if (value === undefined || value === false) continue;
    if (flag.type === 'boolean') argv.push(`--${flag.name}`);
    else if (flag.type === 'seconds') argv.push(`--${flag.name}`, String(Number(value) / 1000));
    else for (const one of Array.isArray(value) ? value : [value]) argv.push(`--${flag.name}`, String(one));
  }
  return argv;
}

/** The closest flag name to a mistyped one (`--jsn` → `json`), if one is close enough. */
export function nearestFlag(name: string): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const flag of FLAGS) {
    const distance = editDistance(name, flag.name);
    if (best === undefined || distance < best.distance) best = { name: flag.name, distance };
  }
  // A third of the name may be wrong (at least one letter): `--jsn`, `--dryrun`, `--state-dri`.
  return best !== undefined && best.distance <= Math.max(1, Math.floor(name.length / 3)) ? best.name : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitute = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitute));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
