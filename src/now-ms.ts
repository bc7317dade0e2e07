/**
 * Monotonic milliseconds (a scan's duration, the interpreted programs' time budget): not
 * performance.now(), whose global loads perf_hooks (~9 ms of every status run).
 */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
