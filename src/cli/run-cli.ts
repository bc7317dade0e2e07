import { parseArgs, type ParseArgsConfig } from 'node:util';
import { statSync } from 'node:fs';
import { describeFsError, RestartdError } from '../errors.js';
import type { FleetArgs } from '../fleet/open-fleet.js';
import type { SourceKind } from '../types/generation.js';
import { DEFAULT_STATE_DIR } from '../journal/state-dir.js';
import { EXIT } from '../types/exit-codes.js';
import { appliesTo, COMMANDS, FLAGS, nearestFlag } from '../types/flags.js';
import type { CliIO } from './io.js';
import { renderUsage } from './usage.js';
// Static: status is the command run most often (monitoring), and one chunk loads faster than many.
import { runPlanCommand, runStatus } from './status-command.js';

const SHORT_USAGE = 'usage: restartd <command> [options]; see restartd --help';

/** A usage error: its one line, then where the help is (not the whole help). */
function usageError(message: string): RestartdError {
  return new RestartdError('USAGE', `${message}\n${SHORT_USAGE}`);
}

function parseOptions(): NonNullable<ParseArgsConfig['options']> {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const flag of FLAGS) {
    options[flag.name] = {
      type: flag.type === 'boolean' ? 'boolean' : 'string',
      ...(flag.multiple === true ? { multiple: true } : {}),
      ...(flag.short === undefined ? {} : { short: flag.short }),
    };
  }
  return options;
}

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

function parse(argv: string[]): { values: Values; positionals: string[] } {
  try {
    return parseArgs({ args: argv, options: parseOptions(), allowPositionals: true, strict: true });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const unknown = /Unknown option '--([^']+)'/.exec(message)?.[1];
    if (unknown === undefined) throw usageError(message);
    const near = nearestFlag(unknown);
    throw usageError(`Unknown option '--${unknown}'${near === undefined ? '' : `; did you mean --${near}?`}`);
  }
}

/** A flag's value checked and converted as the table says (`seconds`: ms in the request). */
function valueOf(name: string, raw: string | boolean | (string | boolean)[] | undefined): unknown {
  const flag = FLAGS.find((f) => f.name === name);
  if (flag === undefined || raw === undefined) return raw;
  if (flag.type === 'seconds') {
    const value = String(raw);
    const seconds = Number(value);
    if (value.trim() === '' || !Number.isFinite(seconds) || seconds < 0) throw usageError(`--${name}: expected a number of seconds >= 0, got "${value}"`);
    return seconds * 1000;
  }
  if (flag.choices !== undefined && !flag.choices.includes(String(raw))) {
    throw usageError(`--${name}: expected one of ${flag.choices.join(', ')}, got "${String(raw)}"`);
  }
  return raw;
}

/** The request the flags describe, field names from the table (`fleet.endpoints` → request.fleet.endpoints). */
function requestOf(values: Values): Record<string, unknown> & { fleet: FleetArgs } {
  const request: Record<string, unknown> & { fleet: FleetArgs } = { fleet: {} };
  for (const flag of FLAGS) {
    if (flag.key === undefined) continue;
    const value = valueOf(flag.name, values[flag.name]);
    if (value === undefined || (flag.type === 'boolean' && value === false && flag.key.startsWith('fleet.'))) continue;
    const [head, field] = flag.key.split('.') as [string, string | undefined];
    if (field === undefined) request[head] = value;
    else (request[head] as Record<string, unknown>)[field] = value;
  }
  return request;
}

/** --proc-root must be a directory of process dirs; named when it is not, before any scan. */
function checkProcRoot(procRoot: unknown): void {
  if (typeof procRoot !== 'string') return;
  let isDir = false;
  try {
    isDir = statSync(procRoot).isDirectory();
  } catch (error) {
    throw usageError(`--proc-root ${procRoot}: ${describeFsError(error)}`);
  }
  if (!isDir) throw usageError(`--proc-root ${procRoot}: not a directory`);
}

type Request = ReturnType<typeof requestOf>;
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const strs = (value: unknown): string[] | undefined => (Array.isArray(value) ? value.map(String) : undefined);
const ms = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

/** Parses argv, runs one command, returns its exit code. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(argv);
  const [command, ...rest] = positionals;
  if (values['version'] === true) {
    io.out(`${await readVersion()}\n`);
    return EXIT.OK;
  }
  if (values['help'] === true || command === 'help') {
    io.out(renderUsage());
    return EXIT.OK;
  }
  if (command === undefined) {
    io.err(`restartd: no command given\n${SHORT_USAGE}\n`);
    return EXIT.ERROR;
  }
  if (!COMMANDS.some((c) => c.name === command)) throw usageError(`unknown command "${command}"`);
  for (const flag of FLAGS) {
    const given = values[flag.name];
    if (given !== undefined && given !== false && !appliesTo(flag, command)) io.err(`restartd: warning: --${flag.name} has no effect on ${command}\n`);
  }
  const request = requestOf(values);
  checkProcRoot(request['procRoot']);
  const json = values['json'] === true;
  switch (command) {
    case 'status':
      if (rest.length > 0) throw usageError(`status takes no arguments, got "${rest.join(' ')}"`);
      return runStatus(
        {
          json,
          prometheus: values['prometheus'] === true,
          procRoot: str(request['procRoot']),
          config: str(request['config']),
          generations: strs(request['generations']),
          modulesDirs: strs(request['modulesDirs']),
          bootedRoot: str(request['bootedRoot']),
          bootedSystem: str(request['bootedSystem']),
          storeDir: str(request['storeDir']),
          bus: str(request['busAddress']),
          stateDir: str(request['stateDir']),
          awareDirs: strs(request['awareDirs']),
        },
        io,
      );
    case 'diff': {
      const [oldPath, newPath, ...extra] = rest;
      if (oldPath === undefined || newPath === undefined || extra.length > 0) throw usageError('diff needs exactly two generations: restartd diff OLD NEW');
      // Loaded on demand: generation reading pulls in zod, which status does not need.
      const { runDiff } = await import('./diff-command.js');
      return runDiff({ old: oldPath, new: newPath, json, ...generationOptions(request) }, (text) => io.out(text));
    }
    case 'plan':
      noPositionals(command, rest);
      bothOrNeither(command, request);
      return runPlanCommand(
        { ...generationOptions(request), old: str(request['old']), new: str(request['new']), config: str(request['config']), busAddress: str(request['busAddress']), awareDirs: strs(request['awareDirs']), procRoot: str(request['procRoot']),
          link: str(request['link']), rollback: request['rollback'] === true ? true : undefined },
        json,
        io,
      );
    case 'apply': {
      noPositionals(command, rest);
      bothOrNeither(command, request);
      const { runApply } = await import('./apply-command.js');
      return runApply(
        {
          old: str(request['old']),
          new: str(request['new']),
          ...generationOptions(request),
          dryRun: request['dryRun'] === true,
          json,
          bus: str(request['busAddress']),
          config: str(request['config']),
          procRoot: str(request['procRoot']),
          stateDir: str(request['stateDir']) ?? DEFAULT_STATE_DIR,
          waitSeconds: (ms(request['waitMs']) ?? 0) / 1000,
          retry: request['retry'] === true,
          awareDirs: strs(request['awareDirs']),
          fleet: request.fleet,
          link: str(request['link']),
          rollback: request['rollback'] === true ? true : undefined,
        },
        io,
      );
    }
    case 'hook': {
      noPositionals(command, rest);
      const { runHook } = await import('./hook-command.js');
      const maxWait = ms(request['maxWaitMs']);
      return runHook(
        {
          old: str(request['old']),
          new: str(request['new']),
          ...generationOptions(request),
          bus: str(request['busAddress']),
          config: str(request['config']),
          procRoot: str(request['procRoot']),
          stateDir: str(request['stateDir']) ?? DEFAULT_STATE_DIR,
          awareDirs: strs(request['awareDirs']),
          maxWaitSeconds: maxWait === undefined ? undefined : maxWait / 1000,
          foreground: request['foreground'] === true,
          fleet: request.fleet,
          link: str(request['link']),
          rollback: request['rollback'] === true ? true : undefined,
        },
        io,
        io.env ?? {},
      );
    }
    case 'watch': {
      noPositionals(command, rest);
      const link = str(request['link']);
      if (link === undefined) throw usageError('watch needs --link PATH');
      const { runWatch } = await import('./watch-command.js');
      const stop = new AbortController();
      io.onStop?.(() => stop.abort());
      return runWatch(
        {
          link,
          debounceMs: ms(request['debounceMs']),
          ...generationOptions(request),
          busAddress: str(request['busAddress']),
          config: str(request['config']),
          procRoot: str(request['procRoot']),
          stateDir: str(request['stateDir']) ?? DEFAULT_STATE_DIR,
          awareDirs: strs(request['awareDirs']),
          signal: stop.signal,
          fleet: request.fleet,
          rollback: request['rollback'] === true ? true : undefined,
        },
        io,
      );
    }
    default:
      throw usageError(`unknown command "${command}"`);
  }
}

function generationOptions(request: Request): { source?: SourceKind; storeDir?: string } {
  const source = str(request['source']) as SourceKind | undefined;
  const storeDir = str(request['storeDir']);
  return { ...(source === undefined ? {} : { source }), ...(storeDir === undefined ? {} : { storeDir }) };
}

function noPositionals(command: string, rest: readonly string[]): void {
  if (rest.length > 0) throw usageError(`${command} takes no arguments, got "${rest.join(' ')}" (generations go in --old OLD --new NEW)`);
}

/** plan and apply: a switch (both generations) or the live scan (neither). */
function bothOrNeither(command: string, request: Request): void {
  if ((request['old'] === undefined) !== (request['new'] === undefined)) throw usageError(`${command} needs --old OLD and --new NEW (or neither: the live system)`);
}

async function readVersion(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
