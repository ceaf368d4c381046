// Partial selection: the k largest entries of a vector without sorting all of it. With a
// 65536-token vocabulary and k in the tens or hundreds, a bounded heap costs about
// V·log2(k) comparisons instead of the V·log2(V) of a full sort.
//
// Order: larger value first; equal values keep the lower index first, so results never depend
// on the traversal (the same rule greedy decoding uses for ties).

/** True when entry a ranks before entry b. */
function ranksBefore(v: ArrayLike<number>, a: number, b: number): boolean {
  return v[a] > v[b] || (v[a] === v[b] && a < b);
}

/** All indices sorted by rank (for k close to the vector length). */
function sortAll(values: ArrayLike<number>, k: number): Int32Array {
  const idx = new Int32Array(values.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  idx.sort((a, b) => values[b] - values[a] || a - b);
  return idx.slice(0, k);
}

/** Above this k a full sort is as cheap as the heap and simpler. */
const HEAP_LIMIT = 4096;

/**
 * Indices of the `k` highest-ranked entries of `values`, best first. Values must not be NaN
 * (the sampler rejects NaN logits before calling this).
 */
export function topIndices(values: ArrayLike<number>, k: number): Int32Array {
  const n = values.length;
  k = Math.min(k, n);
  if (k <= 0) return new Int32Array(0);
  if (k > HEAP_LIMIT) return sortAll(values, k);

  // Min-heap on rank: heap[0] is the worst of the kept entries.
  const heap = new Int32Array(k);
  let size = 0;
  const siftUp = (pos: number): void => {
    const item = heap[pos];
    while (pos > 0) {
      const parent = (pos - 1) >> 1;
      if (!ranksBefore(values, heap[parent], item)) break;
      heap[pos] = heap[parent];
      pos = parent;
    }
    heap[pos] = item;
  };
  const siftDown = (pos: number): void => {
    const item = heap[pos];
    for (;;) {
      let child = 2 * pos + 1;
      if (child >= size) break;
      if (child + 1 < size && ranksBefore(values, heap[child], heap[child + 1])) child++;
      if (!ranksBefore(values, item, heap[child])) break;
      heap[pos] = heap[child];
      pos = child;
    }
    heap[pos] = item;
  };

  for (let i = 0; i < n; i++) {
    if (size < k) {
      heap[size] = i;
      siftUp(size++);
    } else if (ranksBefore(values, i, heap[0])) {
      heap[0] = i;
      siftDown(0);
    }
  }
  const out = heap.slice(0, size);
  out.sort((a, b) => values[b] - values[a] || a - b);
  return out;
}

/** Index of the largest entry, lowest index on ties; -1 when every entry is -Infinity. */
export function argmax(values: ArrayLike<number>): number {
  let best = -1;
  let bestValue = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] > bestValue) {
      bestValue = values[i];
      best = i;
    }
  }
  return best;
}
