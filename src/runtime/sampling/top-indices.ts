// Partial selection: the k largest entries of a vector without sorting all of it. With a
// 65536-token vocabulary and k in the tens or hundreds, a bounded heap costs about one
// comparison per entry (most lose to the worst kept one) instead of the V·log2(V) of a full
// sort; for large k, quickselect finds the k-th value and only the k winners are sorted.
//
// Order: larger value first; equal values keep the lower index first, so results never depend
// on the traversal (the same rule greedy decoding uses for ties).

/** True when entry a ranks before entry b. */
function ranksBefore(v: ArrayLike<number>, a: number, b: number): boolean {
  return v[a] > v[b] || (v[a] === v[b] && a < b);
}

/** The k-th largest value (1-based) by three-way quickselect on a copy; expected linear. */
function kthLargest(values: ArrayLike<number>, k: number): number {
  const v = Float64Array.from(values);
  let lo = 0;
  let hi = v.length;
  let rank = k - 1; // position wanted in descending order, within [lo, hi)
  for (;;) {
    const a = v[lo];
    const b = v[lo + ((hi - lo) >> 1)];
    const c = v[hi - 1];
    const pivot = Math.max(Math.min(a, b), Math.min(Math.max(a, b), c)); // median of three
    // [lo, gt) > pivot, [gt, i) = pivot, [lt, hi) < pivot
    let gt = lo;
    let i = lo;
    let lt = hi;
    while (i < lt) {
      const x = v[i];
      if (x > pivot) {
        v[i++] = v[gt];
        v[gt++] = x;
      } else if (x < pivot) {
        v[i] = v[--lt];
        v[lt] = x;
      } else i++;
    }
    if (rank < gt - lo) hi = gt;
    else if (rank < lt - lo) return pivot;
    else {
      rank -= lt - lo;
      lo = lt;
    }
  }
}

/**
 * For large k (a heap of thousands loses to this): find the k-th largest value, take every
 * index above it and the lowest-indexed ones equal to it, then sort just those k.
 */
function topBySelection(values: ArrayLike<number>, k: number): Int32Array {
  const kth = kthLargest(values, k);
  const out = new Int32Array(k);
  let above = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > kth) out[above++] = i;
  for (let i = 0, m = above; m < k; i++) if (values[i] === kth) out[m++] = i;
  out.sort((a, b) => values[b] - values[a] || a - b);
  return out;
}

/** Moves heap[pos] up the min-heap (worst-ranked at the root) to its place. */
function siftUp(values: ArrayLike<number>, heap: Int32Array, pos: number): void {
  const item = heap[pos];
  while (pos > 0) {
    const parent = (pos - 1) >> 1;
    if (!ranksBefore(values, heap[parent], item)) break;
    heap[pos] = heap[parent];
    pos = parent;
  }
  heap[pos] = item;
}

/** Moves heap[0] down the min-heap of `size` entries to its place. */
function siftDown(values: ArrayLike<number>, heap: Int32Array, size: number): void {
  let pos = 0;
  const item = heap[0];
  for (;;) {
    let child = 2 * pos + 1;
    if (child >= size) break;
    if (child + 1 < size && ranksBefore(values, heap[child], heap[child + 1])) child++;
    if (!ranksBefore(values, item, heap[child])) break;
    heap[pos] = heap[child];
    pos = child;
  }
  heap[pos] = item;
}

/** Above this k, selection then sorting k is as cheap as the heap and simpler. */
const HEAP_LIMIT = 4096;

/**
 * Indices of the `k` highest-ranked entries of `values`, best first. Values must not be NaN
 * (the sampler rejects NaN logits before calling this).
 */
export function topIndices(values: ArrayLike<number>, k: number): Int32Array {
  const n = values.length;
  k = Math.min(k, n);
  if (k <= 0) return new Int32Array(0);
  if (k > HEAP_LIMIT) return topBySelection(values, k);

  const heap = heapOfBest(values, k);
  return heap.sort((a, b) => values[b] - values[a] || a - b);
}

/**
 * The k best entries as a min-heap on rank (heap[0] is the worst kept). A function of its own
 * so that V8 optimises the loop as a whole: with the sort after it in the same function, the
 * loop's on-stack-replacement code was deoptimised on every call (measured, Node 20).
 */
function heapOfBest(values: ArrayLike<number>, k: number): Int32Array {
  const heap = new Int32Array(k);
  for (let i = 0; i < k; i++) {
    heap[i] = i;
    siftUp(values, heap, i);
  }
  // Most entries lose to the worst kept one on value alone: one comparison each, no call.
  // (An entry equal to the worst never gets in either: its index is higher.)
  let worst = values[heap[0]];
  for (let i = k; i < values.length; i++) {
    if (values[i] > worst) {
      heap[0] = i;
      siftDown(values, heap, k);
      worst = values[heap[0]];
    }
  }
  return heap;
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
