import { parseArgs, type ParseArgsConfig } from 'node:util';
import { RestartdError } from '../errors.js';
import type { SourceKind } from '../generation/types.js';
import { EXIT } from './exit-codes.js';
import type { CliIO } from './io.js';
import { runStaleReport } from './status-command.js';

export const USAGE = `usage: restartd <command> [options]

commands:
  status [--json]                      stale processes on this machine (deleted and replaced files)
  diff OLD NEW [--json]                what changed between two generations
  plan --old OLD --new NEW [--json]    stale processes after switching from OLD to NEW, and what
                                       would be done per owner (unit facts from the bus when it answers)
  apply --old OLD --new NEW [--dry-run] [--json]
                                       carry it out through systemd, then verify by re-scanning

generation options (diff, plan):
  --source dir|nix|manifest            how to read OLD and NEW (default: detected from the path)
  --store-dir DIR                      nix store directory (default /nix/store)

systemd options (plan, apply):
  --bus ADDRESS                        systemd's bus (default $DBUS_SYSTEM_BUS_ADDRESS, then the system bus)
  --config PATH                        restartd's config (default /etc/restartd/config.json, if present)
  --dry-run                            apply: print "would …" from the same plan, change nothing

other options:
  --proc-root DIR                      read processes from DIR instead of /proc
  -h, --help                           this help
  --version                            restartd's version

exit codes: status, plan: 0 nothing stale, 1 stale processes found, 2 reboot needed, 3 error
            apply: 0 all done and verified, 2 done but a reboot is needed, 3 error before anything ran,
                   4 nothing to do, 5 some action failed (the others still ran)
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
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', default: false },
} as const satisfies ParseArgsConfig['options'];

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

function sourceOf(value: string | undefined): SourceKind | undefined {
  if (value === undefined) return undefined;
  if (!(SOURCES as readonly string[]).includes(value)) {
    throw usageError(`--source: expected one of ${SOURCES.join(', ')}, got "${value}"`);
  }
  return value as SourceKind;
}

/** Parses argv, runs one command, returns its exit code. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(argv);
  const [command, ...rest] = positionals;
  if (values.version) {
    io.out(`${await readVersion()}\n`);
    return EXIT.OK;
  }
  if (values.help || command === undefined || command === 'help') {
    io.out(USAGE);
    return command === undefined && !values.help ? EXIT.ERROR : EXIT.OK;
  }
  const source = sourceOf(values.source);
  const loadOptions = {
    ...(source === undefined ? {} : { source }),
    ...(values['store-dir'] === undefined ? {} : { storeDir: values['store-dir'] }),
  };
  switch (command) {
    case 'status':
      if (rest.length > 0) throw usageError(`status takes no arguments, got "${rest.join(' ')}"`);
      return runStaleReport({ json: values.json, procRoot: values['proc-root'], config: values.config }, io);
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
      return runStaleReport({ json: values.json, procRoot: values['proc-root'], changeSet, config: values.config, plan: { bus: values.bus } }, io);
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
