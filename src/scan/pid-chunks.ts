/** PIDs handed out in chunks from a counter shared between threads, so both cores stay busy. */
export const CHUNK = 32;

export function* claimPids(pids: readonly number[], counter: Int32Array): Generator<number> {
  for (;;) {
    const start = Atomics.add(counter, 0, CHUNK);
    if (start >= pids.length) return;
    const end = Math.min(start + CHUNK, pids.length);
    for (let i = start; i < end; i++) yield pids[i] as number;
  }
}
