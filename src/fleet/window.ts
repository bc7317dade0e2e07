import { RestartdError } from '../errors.js';
import { WEEKDAYS, type MaintenanceWindow, type Weekday } from '../config/fleet-schema.js';

/** A date's wall clock in a time zone. */
interface WallClock {
  year: number;
  month: number;
  day: number;
  weekday: Weekday;
  /** Minutes since local midnight. */
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterOf(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

function wallClock(at: Date, timeZone: string): WallClock {
  const parts = Object.fromEntries(formatterOf(timeZone).formatToParts(at).map((p) => [p.type, p.value]));
  const weekday = (parts.weekday ?? '').toLowerCase().slice(0, 3) as Weekday;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    weekday,
    minute: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

function minutesOf(clock: string): number {
  const [h, m] = clock.split(':');
  return Number(h) * 60 + Number(m);
}

function previousDay(day: Weekday): Weekday {
  return WEEKDAYS[(WEEKDAYS.indexOf(day) + 6) % 7] as Weekday;
}

/**
 * Whether `at` is inside the window. The window opens at `start` on each of its days and closes at
 * `end`; an `end` not after `start` closes on the next day (crossing midnight; equal: 24 hours).
 */
export function windowContains(window: MaintenanceWindow, at: Date): boolean {
  const local = wallClock(at, window.timeZone);
  const start = minutesOf(window.start);
  const end = minutesOf(window.end);
  if (start < end) return window.days.includes(local.weekday) && local.minute >= start && local.minute < end;
  // Crosses midnight: the evening part belongs to today's window, the early part to yesterday's.
  return (window.days.includes(local.weekday) && local.minute >= start) || (window.days.includes(previousDay(local.weekday)) && local.minute < end);
}

/** The offset of a time zone from UTC at an instant, in ms (local = utc + offset). */
function offsetMs(at: number, timeZone: string): number {
  const local = wallClock(new Date(at), timeZone);
  const asUtc = Date.UTC(local.year, local.month - 1, local.day, Math.floor(local.minute / 60), local.minute % 60);
  return asUtc - Math.floor(at / 60_000) * 60_000;
}

/** The instant a wall-clock time happens in a time zone (in a DST gap: just after it). */
function instantOf(year: number, month: number, day: number, minute: number, timeZone: string): number {
  const naive = Date.UTC(year, month - 1, day, Math.floor(minute / 60), minute % 60);
  let guess = naive - offsetMs(naive, timeZone);
  // A second round settles the guess when the offset differs across the first one (DST change).
  guess = naive - offsetMs(guess, timeZone);
  return guess;
}

/**
 * When the window next opens at or after `at`: `at` itself when inside it. Always within 8 days,
 * since a window opens on at least one weekday.
 */
export function nextWindowStart(window: MaintenanceWindow, at: Date): Date {
  if (windowContains(window, at)) return at;
  const local = wallClock(at, window.timeZone);
  const start = minutesOf(window.start);
  for (let k = 0; k <= 8; k++) {
    // Calendar arithmetic on a UTC date: the local day k days on, whatever the zone's offset.
    const date = new Date(Date.UTC(local.year, local.month - 1, local.day + k));
    const weekday = WEEKDAYS[date.getUTCDay()] as Weekday;
    if (!window.days.includes(weekday)) continue;
    const opens = instantOf(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), start, window.timeZone);
    if (opens > at.getTime()) return new Date(opens);
  }
  throw new RestartdError('BAD_CONFIG', `config fleet.window: ${describeWindow(window)} never opens (no day listed?)`);
}

/** "mon,tue 22:00-02:00 Europe/Berlin" */
export function describeWindow(window: MaintenanceWindow): string {
  const days = window.days.length === 7 ? 'every day' : window.days.join(',');
  return `${days} ${window.start}-${window.end} ${window.timeZone}`;
}
