// The broker refuses a produce request over its 1 MiB limit as a whole (and with it
// a whole batch of records); half of it leaves room for headers and batch overhead.
const MAX_REQUEST_BYTES = 512 * 1024;

/** Consecutive slices whose sizes add up to at most MAX_REQUEST_BYTES (one item at least). */
export function bySize<T>(items: readonly T[], size: (item: T) => number): T[][] {
  const slices: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const n = size(item);
    if (current.length > 0 && bytes + n > MAX_REQUEST_BYTES) {
      slices.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += n;
  }
  if (current.length > 0) slices.push(current);
  return slices;
}
