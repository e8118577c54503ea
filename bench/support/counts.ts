/** Adds `by` to the count kept under `key`. */
export function addCount<K>(counts: Map<K, number>, key: K, by = 1): void {
  counts.set(key, (counts.get(key) ?? 0) + by);
}

/** Each map's counts added up key by key. */
export function mergeCounts<K>(maps: Iterable<Map<K, number>>): Map<K, number> {
  const merged = new Map<K, number>();
  for (const counts of maps) for (const [key, count] of counts) addCount(merged, key, count);
  return merged;
}
