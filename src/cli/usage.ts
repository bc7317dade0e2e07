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

function entry(label: string, help: string): string {
  const body = wrap(help, WIDTH - COLUMN, COLUMN);
  if (label.length + 2 >= COLUMN) return `  ${label}\n${' '.repeat(COLUMN)}${body.join('\n')}`;
  return `  ${label.padEnd(COLUMN - 2)}${body.join('\n')}`;
}

function commandsOf(flag: FlagSpec): string {
  return flag.commands === 'all' ? '' : ` (${flag.commands.join(', ')})`;
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
      out.push(
        ...wrap(
          'config fleet.window {days, start, end, timeZone}: outside it apply defers (exit 7) and records the switch as pending (status shows it; hook carries it out in the window; watch waits for it); fleet.delaySeconds + up to fleet.jitterSeconds: wait before a run\'s first restart',
          WIDTH - 2,
          2,
        ).map((line, i) => (i === 0 ? `  ${line}` : line)),
      );
    }
  }
  out.push('', 'exit codes:');
  for (const command of ['status', 'plan', 'apply', 'hook'] as const) {
    const codes = EXIT_MEANINGS.flatMap((row) => (row[command] === undefined ? [] : [`${row.code} ${row[command]}`]));
    out.push(entry(command, codes.join('; ')));
  }
  out.push('', 'environment: RESTARTD_OLD, RESTARTD_NEW, RESTARTD_SOURCE (hook), RESTARTD_SUSPEND / NEEDRESTART_SUSPEND (hook: record only), NO_COLOR, DBUS_SYSTEM_BUS_ADDRESS');
  return `${out.join('\n')}\n`;
}

/** The flags a command takes, for errors and completion. */
export function flagsOf(command: string): FlagSpec[] {
  return FLAGS.filter((flag) => appliesTo(flag, command));
}
