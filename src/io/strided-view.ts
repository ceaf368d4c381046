// Tensor views as torch saves them: a storage, an element offset and per-dimension strides.
// State dicts can hold views (a slice or transpose of a bigger parameter), so readers must copy
// the addressed elements into row-major order instead of assuming contiguous storage.

/** True when the strides are exactly row-major for the shape (size-1 dims may have any stride). */
export function isRowMajor(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d];
  }
  return true;
}

/** Storage elements [start, end) that the view touches; empty when the tensor has no elements. */
export function viewSpan(
  shape: readonly number[],
  stride: readonly number[],
  offset: number,
): { start: number; end: number } {
  if (shape.some((d) => d === 0)) return { start: offset, end: offset };
  let last = offset;
  for (let d = 0; d < shape.length; d++) last += (shape[d] - 1) * stride[d];
  return { start: offset, end: last + 1 };
}

/**
 * Copies a strided view into row-major bytes. `span` holds storage elements starting at the
 * view's first element (as given by viewSpan), `elementSize` bytes each.
 */
export function gatherView(
  span: Uint8Array,
  shape: readonly number[],
  stride: readonly number[],
  elementSize: number,
): Uint8Array {
  const numel = shape.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(numel * elementSize);
  if (numel === 0) return out;
  if (shape.length === 0) {
    out.set(span.subarray(0, elementSize));
    return out;
  }
  const n = shape.length;
  const inner = shape[n - 1];
  const innerStride = stride[n - 1];
  const index = new Array<number>(n - 1).fill(0);
  let dst = 0;
  for (let row = 0; row < numel / inner; row++) {
    let src = 0;
    for (let d = 0; d < n - 1; d++) src += index[d] * stride[d];
    if (innerStride === 1) {
      out.set(span.subarray(src * elementSize, (src + inner) * elementSize), dst);
      dst += inner * elementSize;
    } else {
      for (let j = 0; j < inner; j++) {
        const p = (src + j * innerStride) * elementSize;
        for (let b = 0; b < elementSize; b++) out[dst++] = span[p + b];
      }
    }
    // Advance the outer multi-index like an odometer, last outer dimension fastest.
    for (let d = n - 2; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}
