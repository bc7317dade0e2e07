/**
 * Runs a worker over `items` with at most `limit` at once. `makeWorker` is called once per worker,
 * so each can own its state (a read buffer) across the items it takes.
 */
export async function forEachBounded<T>(items: readonly T[], limit: number, makeWorker: () => (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const run = async (): Promise<void> => {
    const work = makeWorker();
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, run));
}
