/** Runs `work` over `items` with at most `limit` in flight; resolves when all have settled. */
export async function runPool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  const workers = Math.min(items.length, Math.max(1, limit));
  await Promise.all(Array.from({ length: workers }, worker));
}
