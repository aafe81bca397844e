import DataLoader from 'dataloader';

/**
 * Calls made during one turn of the event loop, handed to `batch` together
 * once that turn ends (setImmediate): one statement for everything that
 * asked at about the same time (project reads, attempt records). DataLoader
 * without its cache, so every caller gets an answer computed after it asked.
 * `batch` answers one value per key, in the keys' order.
 */
export function turnBatchLoader<Key, Value>(batch: (keys: readonly Key[]) => Promise<Value[]>): DataLoader<Key, Value> {
  return new DataLoader<Key, Value>(batch, { cache: false, batchScheduleFn: (run) => setImmediate(run), maxBatchSize: 256 });
}
