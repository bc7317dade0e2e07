import { setTimeout as sleep } from 'node:timers/promises';
import type { FleetConfig } from '../config/fleet-schema.js';
import { describeWindow, nextWindowStart, windowContains } from './window.js';

/** Whether restarts may happen now: always without a window. */
export type WindowVerdict = { open: true } | { open: false; nextStart: Date; window: string };

export function windowVerdict(fleet: FleetConfig | undefined, now: Date = new Date()): WindowVerdict {
  const window = fleet?.window;
  if (window === undefined || windowContains(window, now)) return { open: true };
  return { open: false, nextStart: nextWindowStart(window, now), window: describeWindow(window) };
}

/**
 * Resolves when the window is open (at once without one); `false` when `signal` aborted first.
 * Sleeps in bounded steps, so a changed clock (suspend, NTP) is noticed.
 */
export async function waitForWindow(fleet: FleetConfig | undefined, signal: AbortSignal): Promise<boolean> {
  for (;;) {
    if (signal.aborted) return false;
    const verdict = windowVerdict(fleet);
    if (verdict.open) return true;
    const ms = Math.min(60_000, Math.max(1000, verdict.nextStart.getTime() - Date.now()));
    // Aborted: the loop sees it (no listener is left behind on the signal, however long the wait).
    await sleep(ms, undefined, { signal }).catch(() => {});
  }
}
