import { EXIT_MEANINGS } from '../types/exit-codes.js';
import { appliesTo, COMMANDS, FLAG_GROUPS, FLAGS, flagLabel, type FlagSpec } from '../types/flags.js';

const WIDTH = 104;
const COLUMN = 39;

/** Words wrapped to `width`, each line after the first indented by `indent`. */
export function wrap(text: string, width: number, indent: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines.map((l, i) => (i === 0 ? l : `${' '.repeat(indent)}${l}`));
}

/** The fleet options' note on the config's window and delay (--help and the man page). */
export const FLEET_WINDOW_NOTE =
  "config fleet.window {days, start, end, timeZone}: outside it apply defers (exit 7) and records the switch as pending (status shows it; hook carries it out in the window; watch waits for it); fleet.delaySeconds + up to fleet.jitterSeconds: wait before a run's first restart";

/** The environment restartd reads, for --help and the man page. */
export const ENVIRONMENT: readonly { name: string; help: string }[] = [
  { name: 'RESTARTD_OLD, RESTARTD_NEW', help: 'hook: the generations switched from and to (flags win)' },
  { name: 'RESTARTD_SOURCE', help: 'hook: how to read them (dir, nix, manifest)' },
  { name: 'RESTARTD_SUSPEND', help: 'hook: set and not 0: record the switch only, restart nothing (a later hook carries it out)' },
  { name: 'NEEDRESTART_SUSPEND', help: "needrestart's name for RESTARTD_SUSPEND, honoured the same" },
  { name: 'NO_COLOR', help: 'set: no colour in the text output' },
  { name: 'DBUS_SYSTEM_BUS_ADDRESS', help: "systemd's bus when --bus is not given" },
];

function entry(label: string, help: string): string {
  const body = wrap(help, WIDTH - COLUMN, COLUMN);
  if (label.length + 2 >= COLUMN) return `  ${label}\n${' '.repeat(COLUMN)}${body.join('\n')}`;
  return `  ${label.padEnd(COLUMN - 2)}${body.join('\n')}`;
}

/** ` (plan, apply)`: the commands a flag applies to, as --help shows them. */
export function commandsOf(flag: FlagSpec): string {
  return flag.commands === 'all' ? '' : ` (${flag.commands.join(', ')})`;
}

/** The commands with exit codes of their own, in the order --help lists them. */
export const EXIT_COMMANDS = ['status', 'plan', 'apply', 'hook'] as const;

/** A command's exit codes and what each means for it. */
export function exitCodesOf(command: (typeof EXIT_COMMANDS)[number]): { code: number; meaning: string }[] {
  return EXIT_MEANINGS.flatMap((row) => (row[command] === undefined ? [] : [{ code: row.code, meaning: row[command] }]));
}

/** The whole --help text, generated from the flag and exit-code tables. */
export function renderUsage(): string {
  const out = ['usage: restartd <command> [options]', '', 'commands:'];
  for (const command of COMMANDS) out.push(entry(command.synopsis, command.help));
  for (const [group, title] of Object.entries(FLAG_GROUPS)) {
    const flags = FLAGS.filter((flag) => flag.group === group);
    out.push('', `${title}:`);
    for (const flag of flags) out.push(entry(flagLabel(flag), `${flag.help}${commandsOf(flag)}`));
    if (group === 'fleet') {
      out.push(...wrap(FLEET_WINDOW_NOTE, WIDTH - 2, 2).map((line, i) => (i === 0 ? `  ${line}` : line)));
    }
  }
  out.push('', 'exit codes:');
  for (const command of EXIT_COMMANDS) out.push(entry(command, exitCodesOf(command).map((c) => `${c.code} ${c.meaning}`).join('; ')));
  out.push('', 'environment:');
  for (const variable of ENVIRONMENT) out.push(entry(variable.name, variable.help));
  return `${out.join('\n')}\n`;
}

/** The flags a command takes, for errors and completion. */
export function flagsOf(command: string): FlagSpec[] {
  return FLAGS.filter((flag) => appliesTo(flag, command));
}
