// Shared by the matrix kernels: Y[m][n] (op)= Σ_k X[m][k]·W[n][k] over several independent
// "segments" (matrix, input rows, output rows) in one dispatch, so e.g. the seven projections
// of a time-mix layer cost one dispatch. Segments are laid end to end in "padded rows" (each
// segment's rows rounded up to 64), so a tile of 8 or 64 rows never straddles two segments and
// one table serves every kernel variant.

struct Seg {
  row_start: u32,  // first padded row of this segment in the dispatch
  n_rows: u32,     // output features (rows of W)
  k_vec: u32,      // vec4<u32> per row of W (K / EPV)
  w_off: u32,      // vec4 index of W[0][0] in `wts`
  x_off: u32,      // vec4 index of X[0][0] in `act`
  x_stride: u32,   // vec4 per row of X
  y_off: u32,      // float index of Y[0][0] (in `act`, or in `logits` for the head)
  y_stride: u32,   // floats per row of Y
  op: u32,         // 0: store, 1: add (residual), 2: store relu(v)²
  m_sel: u32,      // 0: the step's rows, 1: the step's logit rows
  mix: u32,        // matvec-ln: params offset of the segment's mix vector μ
  x_act: u32,      // matmul-tiled: activation applied to X as read (0 none, 1 tanh, 2 sigmoid)
}

struct Step {
  rows: u32,       // M: tokens in this step
  out_rows: u32,   // rows whose logits are computed
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<storage, read_write> act: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> wts: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> segs: array<Seg>;
@group(0) @binding(3) var<uniform> step: Step;
//#if TO_LOGITS
@group(0) @binding(4) var<storage, read_write> logits: array<f32>;
//#endif

fn find_seg(padded_row: u32) -> u32 {
  var s = 0u;
  let n = arrayLength(&segs);
  for (var i = 1u; i < n; i++) {
    if (segs[i].row_start <= padded_row) {
      s = i;
    }
  }
  return s;
}

fn seg_rows(seg: Seg) -> u32 {
  return select(step.rows, step.out_rows, seg.m_sel == 1u);
}

/// Padded output rows of the whole dispatch (segments start at multiples of 64).
fn padded_total() -> u32 {
  let last = segs[arrayLength(&segs) - 1u];
  return last.row_start + (last.n_rows + 63u) / 64u * 64u;
}

/// Float index, from the split-K scratch region's start, of split `split`'s partial sum for input
/// row m and padded output row p (`padded`: padded_total()). The matrix kernels write these;
/// matmul-reduce.wgsl adds them up (ln-mix.wgsl's ADD_PARTIALS reads the same layout).
fn partial_at(split: u32, m: u32, padded: u32, p: u32) -> u32 {
  return (split * step.rows + m) * padded + p;
}

fn put(seg: Seg, m: u32, n: u32, v: f32) {
  let i = seg.y_off + m * seg.y_stride + n;
  var r = v;
  if (seg.op == 2u) {
    let p = max(v, 0.0);
    r = p * p;
  }
//#if TO_LOGITS
  logits[i] = r;
//#else
  if (seg.op == 1u) {
    r += act[i / 4u][i % 4u];
  }
  act[i / 4u][i % 4u] = r;
//#endif
}
