import { readlinkSync } from 'node:fs';

/** /proc/PID/exe of a live process, or undefined (gone, or not exec'd yet). */
export function exeOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

/** Polls `check` every 10 ms until it holds; fails naming `what` after `tries` polls. */
export async function until(check: () => boolean, what: string, tries = 1000): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}
