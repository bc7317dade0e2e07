import { parseArgs, type ParseArgsConfig } from 'node:util';
import { statSync } from 'node:fs';
import { describeFsError, RestartdError } from '../errors.js';
import type { SourceKind } from '../generation/types.js';
import type { SwitchRunArgs } from './switch-run-args.js';
import { EXIT } from './exit-codes.js';
import type { CliIO } from './io.js';
import { runStaleReport, runStatus } from './status-command.js';
import { DEFAULT_STATE_DIR } from '../journal/state-dir.js';

export const USAGE = `usage: restartd <command> [options]

commands:
  status [--json|--prometheus]         the whole picture: stale processes by owner and what the policy
                                       would do, reboot tier and why, generations and their disk,
                                       update-aware apps, the last runs
  diff OLD NEW [--json]                what changed between two generations
  plan --old OLD --new NEW [--json]    stale processes after switching from OLD to NEW, and what
                                       would be done per owner (unit facts from the bus when it answers)
  apply --old OLD --new NEW [--dry-run] [--json]
                                       carry it out through systemd, then verify by re-scanning;
                                       journaled: run it again after a crash to finish the job
  hook [--old OLD --new NEW]           the entry a package manager calls (or RESTARTD_OLD/RESTARTD_NEW):
                                       records the switch, folds repeated calls into one, carries it out
                                       under the lock; RESTARTD_SUSPEND=1: record only
  watch --link PATH                    follow a current/profile link: one apply per settled switch

generation options (diff, plan):
  --source dir|nix|manifest            how to read OLD and NEW (default: detected from the path)
  --store-dir DIR                      nix store directory (default /nix/store)

status options:
  --generations PATH                   a Nix profile, OSTree deployments dir or release dir (repeatable;
                                       default: /nix/var/nix/profiles/system and /ostree/deploy, if present)
  --modules-dir DIR                    where installed kernels are (repeatable; default /lib/modules)
  --booted-root DIR                    the booted deployment's root, to mark it (default /)
  --booted-system PATH                 NixOS' booted system link (default /run/booted-system)
  --prometheus                         node_exporter textfile-collector format

systemd options (status, plan, apply):
  --bus ADDRESS                        systemd's bus (default $DBUS_SYSTEM_BUS_ADDRESS, then the system bus)
  --config PATH                        restartd's config (default /etc/restartd/config.json, if present)
  --dry-run                            apply: print "would …" from the same plan, change nothing

state options (status, apply, hook, watch):
  --state-dir DIR                      journal, lock and pending switch (default /var/lib/restartd)
  --wait SECONDS                       apply: wait for another run's lock (default 0: exit 6 at once)
  --retry                              apply: run again what an earlier run of the same switch did but
                                       left still stale (a re-run otherwise reports it failed, exit 5)
  --max-wait SECONDS                   hook: hold the package manager at most this long (default 30);
                                       the rest goes on detached, output in STATE/hook.log
  --foreground                         hook: carry the pending switches out in this process
  --debounce SECONDS                   watch: quiet time before a switch counts as settled (default 2)

fleet options (apply, hook, watch; issue 7):
  --fleet URL[,URL…]                   etcd client endpoints: at most K hosts restart the same unit (or
                                       config group) at once; a host that dies frees its slot when its
                                       lease expires. Without it: a single host, no etcd needed
  --fleet-ca FILE, --fleet-cert FILE, --fleet-key FILE
                                       TLS to etcd (PEM: CA, client certificate and key)
  --fleet-user USER, --fleet-password-file FILE
                                       etcd auth (the password is read from FILE, never from the command line)
  --fleet-slots K                      K, over the config's fleet.slots (default 1)
  --fleet-host NAME                    this host's name in the fleet (default: hostname and machine-id)
  --fleet-optional                     etcd unreachable: warn and run as a single host (default: exit 3,
                                       nothing restarted)
  config fleet.window {days, start, end, timeZone}: outside it apply defers (exit 7) and records the
  switch as pending (status shows it; hook carries it out in the window; watch waits for it);
  fleet.delaySeconds + up to fleet.jitterSeconds: wait before a run's first restart

update-aware options (status, plan, apply):
  --aware-dir DIR                      registration dir (repeatable; default /run/restartd/aware.d and
                                       each user's \$XDG_RUNTIME_DIR/restartd/aware.d, i.e. /run/user/UID/...)

other options:
  --proc-root DIR                      read processes from DIR instead of /proc
  -h, --help                           this help
  --version                            restartd's version

exit codes: status: 0 OK, 1 WARNING restarts (or a daemon-reexec) needed, 2 CRITICAL (soft-)reboot needed,
                    3 UNKNOWN error (nagios levels)
            plan: 0 nothing stale, 1 stale processes found, 3 error
            apply: 0 all done and verified, 2 done but a reboot is needed, 3 error before anything ran,
                   4 nothing to do, 5 some action failed (the others still ran),
                   6 another run holds the lock (nothing done),
                   7 deferred: outside the maintenance window (nothing done; the switch is pending)
            hook:  0 done, queued, suspended, deferred (outside the window) or continuing detached,
                   3 bad input (or etcd unreachable with --fleet), 5 some action failed
`;

const OPTIONS = {
  json: { type: 'boolean', default: false },
  old: { type: 'string' },
  new: { type: 'string' },
  source: { type: 'string' },
  'store-dir': { type: 'string' },
  'proc-root': { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  bus: { type: 'string' },
  config: { type: 'string' },
  'state-dir': { type: 'string' },
  wait: { type: 'string' },
  'max-wait': { type: 'string' },
  foreground: { type: 'boolean', default: false },
  retry: { type: 'boolean', default: false },
  link: { type: 'string' },
  debounce: { type: 'string' },
  prometheus: { type: 'boolean', default: false },
  generations: { type: 'string', multiple: true },
  'modules-dir': { type: 'string', multiple: true },
  'booted-root': { type: 'string' },
  'booted-system': { type: 'string' },
  'aware-dir': { type: 'string', multiple: true },
  fleet: { type: 'string' },
  'fleet-ca': { type: 'string' },
  'fleet-cert': { type: 'string' },
  'fleet-key': { type: 'string' },
  'fleet-user': { type: 'string' },
  'fleet-password-file': { type: 'string' },
  'fleet-slots': { type: 'string' },
  'fleet-host': { type: 'string' },
  'fleet-optional': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', default: false },
} as const satisfies ParseArgsConfig['options'];

function secondsOf(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds < 0) throw usageError(`${flag}: expected a number of seconds >= 0, got "${value}"`);
  return seconds;
}

const SOURCES: readonly SourceKind[] = ['dir', 'nix', 'manifest'];

function usageError(message: string): RestartdError {
  return new RestartdError('USAGE', `${message}\n\n${USAGE}`);
}

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageError(error instanceof Error ? error.message : String(error));
  }
}

/** --proc-root must be a directory of process dirs; named when it is not, before any scan. */
function checkProcRoot(procRoot: string | undefined): void {
  if (procRoot === undefined) return;
  let isDir = false;
  try {
    isDir = statSync(procRoot).isDirectory();
  } catch (error) {
    throw usageError(`--proc-root ${procRoot}: ${describeFsError(error)}`);
  }
  if (!isDir) throw usageError(`--proc-root ${procRoot}: not a directory`);
}

function sourceOf(value: string | undefined): SourceKind | undefined {
  if (value === undefined) return undefined;
  if (!(SOURCES as readonly string[]).includes(value)) {
    throw usageError(`--source: expected one of ${SOURCES.join(', ')}, got "${value}"`);
  }
  return value as SourceKind;
}

/** What hook and watch share: where generations, the bus, the config, processes and state are. */
function switchRunArgs(values: ReturnType<typeof parse>['values'], source: SourceKind | undefined): SwitchRunArgs {
  return {
    source,
    storeDir: values['store-dir'],
    bus: values.bus,
    config: values.config,
    procRoot: values['proc-root'],
    stateDir: values['state-dir'] ?? DEFAULT_STATE_DIR,
  };
}

/** Parses argv, runs one command, returns its exit code. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(argv);
  const [command, ...rest] = positionals;
  if (values.version) {
    io.out(`${await readVersion()}\n`);
    return EXIT.OK;
  }
  if (values.help || command === 'help') {
    io.out(USAGE);
    return EXIT.OK;
  }
  if (command === undefined) {
    io.err(`restartd: no command given\n\n${USAGE}`);
    return EXIT.ERROR;
  }
  checkProcRoot(values['proc-root']);
  const source = sourceOf(values.source);
  // fleet (issue 7): the --fleet-* flags as given; src/fleet/open-fleet.ts checks them.
  const fleet = {
    endpoints: values.fleet,
    ca: values['fleet-ca'],
    cert: values['fleet-cert'],
    key: values['fleet-key'],
    user: values['fleet-user'],
    passwordFile: values['fleet-password-file'],
    slots: values['fleet-slots'],
    host: values['fleet-host'],
    optional: values['fleet-optional'],
  };
  const loadOptions = {
    ...(source === undefined ? {} : { source }),
    ...(values['store-dir'] === undefined ? {} : { storeDir: values['store-dir'] }),
  };
  switch (command) {
    case 'status':
      if (rest.length > 0) throw usageError(`status takes no arguments, got "${rest.join(' ')}"`);
      return runStatus(
        {
          json: values.json,
          prometheus: values.prometheus,
          procRoot: values['proc-root'],
          config: values.config,
          generations: values.generations,
          modulesDirs: values['modules-dir'],
          bootedRoot: values['booted-root'],
          bootedSystem: values['booted-system'],
          storeDir: values['store-dir'],
          bus: values.bus,
          stateDir: values['state-dir'],
          awareDirs: values['aware-dir'],
        },
        io,
      );
    case 'diff': {
      const [oldPath, newPath, ...extra] = rest;
      if (oldPath === undefined || newPath === undefined || extra.length > 0) {
        throw usageError('diff needs exactly two generations: restartd diff OLD NEW');
      }
      // Loaded on demand: generation reading pulls in zod, which status does not need.
      const { runDiff } = await import('./diff-command.js');
      return runDiff({ old: oldPath, new: newPath, json: values.json, ...loadOptions }, (text) => io.out(text));
    }
    case 'plan': {
      if (values.old === undefined || values.new === undefined) throw usageError('plan needs --old OLD and --new NEW');
      const { diffGenerations } = await import('../generation/index.js');
      const changeSet = await diffGenerations(values.old, values.new, loadOptions);
      return runStaleReport({ json: values.json, procRoot: values['proc-root'], changeSet, config: values.config, plan: { bus: values.bus, awareDirs: values['aware-dir'] } }, io);
    }
    case 'apply': {
      if (values.old === undefined || values.new === undefined) throw usageError('apply needs --old OLD and --new NEW');
      const { runApply } = await import('./apply-command.js');
      return runApply(
        {
          old: values.old,
          new: values.new,
          ...loadOptions,
          dryRun: values['dry-run'],
          json: values.json,
          bus: values.bus,
          config: values.config,
          procRoot: values['proc-root'],
          stateDir: values['state-dir'] ?? DEFAULT_STATE_DIR,
          waitSeconds: secondsOf('--wait', values.wait),
          retry: values.retry,
          awareDirs: values['aware-dir'],
          fleet,
        },
        io,
      );
    }
    case 'hook': {
      const { runHook } = await import('./hook-command.js');
      return runHook(
        {
          old: values.old,
          new: values.new,
          ...switchRunArgs(values, source),
          maxWaitSeconds: secondsOf('--max-wait', values['max-wait']),
          foreground: values.foreground,
          fleet,
        },
        io,
        process.env,
      );
    }
    case 'watch': {
      if (values.link === undefined) throw usageError('watch needs --link PATH');
      const debounce = secondsOf('--debounce', values.debounce);
      const { runWatch } = await import('./watch-command.js');
      const stop = new AbortController();
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
      return runWatch(
        {
          link: values.link,
          debounceMs: debounce === undefined ? undefined : debounce * 1000,
          ...switchRunArgs(values, source),
          signal: stop.signal,
          fleet,
        },
        io,
      );
    }
    default:
      throw usageError(`unknown command "${command}"`);
  }
}

async function readVersion(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
