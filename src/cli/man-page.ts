import { COMMANDS, FLAG_GROUPS, FLAGS, flagLabel } from '../types/flags.js';
import { commandsOf, ENVIRONMENT, EXIT_COMMANDS, exitCodesOf, FLEET_WINDOW_NOTE } from './usage.js';

/** The files restartd reads and writes, for the man page. */
const FILES: readonly { path: string; help: string }[] = [
  { path: '/etc/restartd/config.json', help: "restartd's config (--config); an example is in /usr/share/doc/restartd/examples/config.json" },
  { path: '/var/lib/restartd/', help: 'the state dir (--state-dir): the journal of switch runs, the lock, the pending switch, hook.log, the package snapshots under pkg/' },
  { path: '/run/restartd/aware.d/', help: 'registrations of update-aware apps (--aware-dir)' },
  { path: '/etc/apt/apt.conf.d/99restartd', help: 'the apt hook: snapshots the packages a dpkg run changes, then calls restartd hook' },
  { path: '/lib/systemd/system/restartd-watch.service', help: 'follows a current/profile link (restartd watch); installed, not enabled' },
  { path: '/usr/share/doc/restartd/schemas/', help: 'the JSON schemas of --json and of manifests' },
];

/** Text as roff reads it: backslashes and minus signs escaped, no line taken for a request. */
function roff(text: string): string {
  return text
    .replaceAll('\\', '\\e')
    .replaceAll('-', '\\-')
    .split('\n')
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join('\n');
}

function item(label: string, help: string): string[] {
  // A label is one unbreakable line (unpaddable spaces): a long synopsis never wraps mid-usage.
  return ['.TP', `.B ${roff(label).replaceAll(' ', '\\ ')}`, roff(help)];
}

/**
 * restartd(8), generated from the same flag, exit-code and environment tables as --help, so the
 * two cannot drift. `date` is the page's date (the package build passes SOURCE_DATE_EPOCH's).
 */
export function renderManPage(version: string, date: string): string {
  const out = [
    `.TH RESTARTD 8 "${date}" "restartd ${roff(version)}" "System Administration"`,
    // Flags and paths are typed as shown: no hyphenation, no stretched spaces.
    '.nh',
    '.ad l',
    '.SH NAME',
    'restartd \\- finish live software updates: restart what still runs old code after a switch',
    '.SH SYNOPSIS',
    '.B restartd',
    '.I command',
    '[\\fIoptions\\fR]',
    '.SH DESCRIPTION',
    roff(
      'After a software switch (an apt upgrade, a Nix generation, an OSTree deployment, a current -> releases/vN symlink) restartd finds the running processes that still use old files and restarts their owners the right way: systemd units over D-Bus, signals, update-aware apps. It runs as root.',
    ),
    '.SH COMMANDS',
  ];
  for (const command of COMMANDS) out.push(...item(`restartd ${command.synopsis}`, command.help));
  for (const [group, title] of Object.entries(FLAG_GROUPS)) {
    out.push(`.SH ${title.toUpperCase()}`);
    for (const flag of FLAGS.filter((f) => f.group === group)) out.push(...item(flagLabel(flag), `${flag.help}${commandsOf(flag)}`));
    if (group === 'fleet') out.push('.PP', roff(FLEET_WINDOW_NOTE));
  }
  out.push('.SH EXIT STATUS');
  for (const command of EXIT_COMMANDS) {
    out.push(`.SS ${roff(command)}`);
    for (const { code, meaning } of exitCodesOf(command)) out.push(...item(String(code), meaning));
  }
  out.push('.SH ENVIRONMENT');
  for (const variable of ENVIRONMENT) out.push(...item(variable.name, variable.help));
  out.push('.SH FILES');
  for (const file of FILES) out.push(...item(file.path, file.help));
  out.push('.SH SEE ALSO', '.BR systemctl (1),', '.BR apt.conf (5),', '.BR needrestart (1)');
  return `${out.join('\n')}\n`;
}
