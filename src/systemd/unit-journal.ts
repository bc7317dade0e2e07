import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

const MAX_LINES = 5;
const MAX_LINE_LENGTH = 200;

export interface UnitJournalOptions {
  /** Prefix that reaches the manager's filesystem ("" for ours, else "/proc/PID/root"). */
  rootPrefix: string;
  /** Only entries from this time on (ms since the epoch). */
  sinceMs: number;
  timeoutMs?: number;
}

/**
 * The first lines a unit's processes logged since `sinceMs`, read with journalctl from the journal of the
 * manager's filesystem; [] when there is no journalctl, no journal or nothing readable. Never throws.
 */
export function readUnitJournal(unit: string, options: UnitJournalOptions): Promise<string[]> {
  const root = options.rootPrefix === '' ? [] : [`--root=${options.rootPrefix}`];
  if (options.rootPrefix !== '' && !['/run/log/journal', '/var/log/journal'].some((dir) => existsSync(`${options.rootPrefix}${dir}`))) {
    return Promise.resolve([]);
  }
  const args = [...root, '--no-pager', '--quiet', '--output=cat', `_SYSTEMD_UNIT=${unit}`, `--since=@${Math.floor(options.sinceMs / 1000)}`];
  return new Promise((resolve) => {
    execFile('journalctl', args, { timeout: options.timeoutMs ?? 3000, maxBuffer: 1024 * 1024 }, (error, stdout) => {
      if (error !== null && stdout === '') return resolve([]);
      const lines = stdout.split('\n').filter((line) => line.trim() !== '');
      resolve(lines.slice(0, MAX_LINES).map((line) => (line.length > MAX_LINE_LENGTH ? `${line.slice(0, MAX_LINE_LENGTH)}…` : line)));
    });
  });
}
