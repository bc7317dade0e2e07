import { printable } from '../report/printable.js';
import type { StaleProcess } from '../types/stale.js';
import type { RebootTier } from '../types/status.js';

/** What a user is asked to do: restart the programs, log out and in (their session leader is stale), or reboot. */
export type NoticeAdvice = 'restart' | 'log-out' | 'reboot';

/** One program as a notice names it: its name, pid and the evidence in a few words. */
export interface NoticeProgram {
  name: string;
  pid: number;
  evidence: string;
}

const SHOWN = 5;
/** A name or path longer than this is cut (its end kept): a notice stays a line, and within what a notification carries. */
const MAX_NAME = 64;
const MAX_PATH = 160;

const cut = (text: string, max: number): string => (text.length <= max ? text : `…${text.slice(text.length - max + 1)}`);

/** A program's name as its user knows it: the executable's file name, else the kernel's comm. */
function programName(process: Pick<StaleProcess, 'exe' | 'comm'>): string {
  const exe = process.exe?.replace(/ \(deleted\)$/, '');
  const base = exe === undefined ? '' : exe.slice(exe.lastIndexOf('/') + 1);
  return base === '' ? process.comm : base;
}

/** A stale process as a notice names it. Pure. */
export function noticeProgram(process: Pick<StaleProcess, 'exe' | 'comm' | 'pid' | 'files'>, fallbackName?: string): NoticeProgram {
  const [first] = process.files;
  const more = process.files.length > 1 ? ` (+${process.files.length - 1} more)` : '';
  const name = cut(process.exe === null && fallbackName !== undefined ? fallbackName : programName(process), MAX_NAME);
  return { name, pid: process.pid, evidence: first === undefined ? 'old code' : `${first.kind} ${cut(first.path, MAX_PATH)}${more}` };
}

/** The advice: a reboot when the reboot tier asks for one, else log out and in for a stale session leader, else restart the programs. Pure. */
export function adviceFor(tier: RebootTier | undefined, sessionLeaderStale: boolean): NoticeAdvice {
  if (tier === 'reboot' || tier === 'soft-reboot') return 'reboot';
  return sessionLeaderStale ? 'log-out' : 'restart';
}

function names(programs: readonly NoticeProgram[]): string {
  const distinct = [...new Set(programs.map((p) => p.name))];
  const shown = distinct.slice(0, SHOWN);
  const rest = distinct.length - shown.length;
  if (rest > 0) return `${shown.join(', ')} and ${rest} more`;
  return shown.length <= 1 ? (shown[0] ?? '') : `${shown.slice(0, -1).join(', ')} and ${shown.at(-1) ?? ''}`;
}

function adviceSentence(advice: NoticeAdvice, programs: readonly NoticeProgram[]): string {
  if (advice === 'reboot') return 'Please save your work: this system needs a reboot to run the new version.';
  if (advice === 'log-out') return 'Please log out and in again (your login session runs old code).';
  return `Please restart ${names(programs)}.`;
}

/** The one line a user gets about their programs restartd leaves running: the programs, the evidence, what to do. Pure. */
export function noticeText(user: { name?: string | undefined }, programs: readonly NoticeProgram[], advice: NoticeAdvice): string {
  const shown = programs.slice(0, SHOWN).map((p) => `${p.name} (pid ${p.pid}: ${p.evidence})`).join(', ') + (programs.length > SHOWN ? ` and ${programs.length - SHOWN} more` : '');
  const count = programs.length === 1 ? '1 of your programs still runs' : `${programs.length} of your programs still run`;
  // One line: printable escapes a newline as well.
  return printable(`restartd: ${user.name ?? 'you'}, after the update ${count} old code: ${shown}. ${adviceSentence(advice, programs)}`);
}

/** The desktop notification's summary (what to do, short) and body (the notice, markup escaped). Pure. */
export function desktopNotice(text: string, advice: NoticeAdvice, programs: readonly NoticeProgram[]): { summary: string; body: string } {
  const summary = advice === 'reboot' ? 'Reboot needed after an update' : advice === 'log-out' ? 'Log out and in again after an update' : `Restart ${names(programs)} after an update`;
  // Notification servers read the body as markup: a path with "<" or "&" must stay text.
  const body = text.replace(/^restartd: /, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  // Within what the user's child accepts (see DesktopNotificationSchema).
  return { summary: printable(summary).slice(0, 1024), body: body.slice(0, 8192) };
}
