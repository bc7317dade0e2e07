import { COMMANDS, FLAGS, type FlagSpec } from '../types/flags.js';
import { flagsOf } from './usage.js';

const takesValue = (flag: FlagSpec): boolean => flag.type !== 'boolean';
const names = (flags: readonly FlagSpec[]): string => flags.map((flag) => `--${flag.name}`).join(' ');

/** The flags whose value completes the same way, as a bash `case` pattern (`--old|--new`). */
function patternOf(pick: (flag: FlagSpec) => boolean): string | undefined {
  const picked = FLAGS.filter((flag) => takesValue(flag) && pick(flag));
  return picked.length === 0 ? undefined : picked.map((flag) => `--${flag.name}`).join('|');
}

/**
 * The bash completion, generated from the flag table: `restartd <TAB>` completes commands,
 * `restartd apply --<TAB>` the flags apply takes, a flag's value its choices, files or directories.
 */
export function renderBashCompletion(): string {
  const values: string[] = [];
  for (const flag of FLAGS.filter((f) => f.choices !== undefined)) {
    values.push(`    --${flag.name}) COMPREPLY=($(compgen -W '${(flag.choices ?? []).join(' ')}' -- "$cur")); return ;;`);
  }
  const files = patternOf((flag) => flag.choices === undefined && flag.completes === 'file');
  const dirs = patternOf((flag) => flag.choices === undefined && flag.completes === 'dir');
  const free = patternOf((flag) => flag.choices === undefined && flag.completes === undefined);
  if (files !== undefined) values.push(`    ${files}) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return ;;`);
  if (dirs !== undefined) values.push(`    ${dirs}) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")); return ;;`);
  if (free !== undefined) values.push(`    ${free}) return ;;`);
  const perCommand = COMMANDS.map((command) => `    ${command.name}) flags='${names(flagsOf(command.name))}' ;;`);
  return [
    '# bash completion for restartd(8), generated from its flag table',
    '_restartd() {',
    '  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} flags',
    '  COMPREPLY=()',
    '  if [ "$COMP_CWORD" -eq 1 ]; then',
    `    COMPREPLY=($(compgen -W '${COMMANDS.map((c) => c.name).join(' ')} ${names(flagsOf('--help'))}' -- "$cur"))`,
    '    return',
    '  fi',
    '  case $prev in',
    ...values,
    '  esac',
    '  case ${COMP_WORDS[1]} in',
    ...perCommand,
    `    *) flags='${names(flagsOf('--help'))}' ;;`,
    '  esac',
    '  COMPREPLY=($(compgen -W "$flags" -- "$cur"))',
    '}',
    'complete -F _restartd restartd',
    '',
  ].join('\n');
}

/** A zsh `_arguments` spec for one flag: `--source[how to read …]:KIND:(dir nix manifest)`. */
function zshSpec(flag: FlagSpec): string {
  const help = flag.help.replace(/[[\]:'\\]/g, (c) => (c === "'" ? "'\\''" : `\\${c}`));
  const repeat = flag.multiple === true ? '*' : '';
  if (!takesValue(flag)) return `'${repeat}--${flag.name}[${help}]'`;
  const action = flag.choices !== undefined ? `(${flag.choices.join(' ')})` : flag.completes === 'dir' ? '_directories' : flag.completes === 'file' ? '_files' : ' ';
  return `'${repeat}--${flag.name}=[${help}]:${flag.value ?? 'VALUE'}:${action}'`;
}

/** The zsh completion (vendor-completions/_restartd), from the same table. */
export function renderZshCompletion(): string {
  const commands = COMMANDS.map((command) => `    '${command.name}:${command.help.replace(/'/g, "'\\''").replace(/:/g, '\\:')}'`);
  const perCommand = COMMANDS.map((command) => [`    ${command.name})`, `      _arguments -s ${flagsOf(command.name).map(zshSpec).join(' \\\n        ')}`, '      ;;'].join('\n'));
  return [
    '#compdef restartd',
    '# zsh completion for restartd(8), generated from its flag table',
    '_restartd() {',
    '  local -a commands',
    '  commands=(',
    ...commands,
    '  )',
    '  if (( CURRENT == 2 )); then',
    "    _describe -t commands 'restartd command' commands",
    '    return',
    '  fi',
    '  local command=$words[2]',
    '  shift words; (( CURRENT-- ))',
    '  case $command in',
    ...perCommand,
    '  esac',
    '}',
    '_restartd "$@"',
    '',
  ].join('\n');
}
