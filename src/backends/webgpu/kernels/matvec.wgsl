// Matrix × a few vectors (decode: M ≤ MR rows), bound by reading W once. Each output row gets
// LANES threads that stride over K in 16-byte loads of W; every loaded weight is used for all
// M input rows, and every loaded input vector for the R output rows a thread owns; the partial
// sums meet in workgroup memory.
// The accumulators are named variables (a<r>_<m>), written out by matvec-source.ts, because
// arrays indexed in loops went to local memory in the tiled kernel on NVIDIA; with them and
// R = 2, batch 4–8 decode measured 16–29 % faster on the H100 (bench/RESULTS.md).
// STAGED (3..8 input rows, batched decode): the X rows are read once per workgroup, a chunk of
// KCV weight vectors' worth at a time, into workgroup memory, and every row group of the
// workgroup multiplies from there. Without it each of the WG / LANES row groups read all of X
// from global memory for its own rows: at 8 input rows that was 8× the weight bytes through L2,
// and batch-8 steps of the 2.9B model took longer than batch-16 ones on the tiled GEMM (H100,
// bench/RESULTS.md). The next chunk's X and weights are loaded into registers while the current
// one is multiplied, so the two barriers per chunk do not wait on memory. With SPLIT_K, grid y
// splits K (SPLITS parts, each a whole number of chunks) so that matrices with few rows still
// fill the GPU; each split writes its partial sums where matmul-reduce.wgsl (or the next
// ln-mix) adds them, in the layout of matmul-out.wgsl's split-K partials. dispatch-shape.ts
// (stagedMatvec) picks the split; its chunks stay ≤ 4 KiB, so xs and part fit WebGPU's default
// 16 KiB of workgroup memory.
// COPY (steps of a single token, layout matmulLn): workgroup 0 also copies LN(x), left in a
// scratch plane by the layer's matvec-ln dispatch, into the state's token shift — here, in a
// later dispatch, because every workgroup of matvec-ln still reads the old shift. For the
// layer's `out` and `ffn.value` this is the simple kernel on purpose: measured on the H100, it
// beat matvec-ln's multi-row split with prefetch on those shapes (long K or few rows).
const WG: u32 = 256u;
const LANES: u32 = {{LANES}}u;
const R: u32 = {{R}}u;
const ROWS: u32 = WG / LANES * R;
const MR: u32 = {{MR}}u;
/** Accumulators reduced per round through `part` (8 KiB fits every device's limit). */
const CHUNK: u32 = 8u;

//#include matmul-common
//#include weights
//#if X_ACT
//#include math
//#include x-act
//#endif
//#if COPY
//#include single-glue
//#endif

var<workgroup> part: array<f32, WG * CHUNK>;
//#if STAGED
/** Weight vectors per row in one chunk (LANES · U): each lane takes U of them. */
const KCV: u32 = {{KCV}}u;
/** X vec4 per weight vec4. */
const XV: u32 = EPV / 4u;
/** Staged X: for input row m, half h of weight vector j at xs[(m · XV + h) · KCV + j], so that
 *  consecutive lanes read consecutive vec4 (no bank conflicts). */
const XS: u32 = MR * XV * KCV;
var<workgroup> xs: array<vec4<f32>, XS>;
const SPLITS: u32 = {{SPLITS}}u;
//#endif

// 16 bytes of weights, widened, and the matching input floats of one row of X.
//#if W32
struct Wv { a: vec4<f32> }
struct Xv { a: vec4<f32> }
fn wv(u: vec4<u32>) -> Wv {
  return Wv(w_first4(u));
}
fn xv(x_row: u32, kv: u32, kind: u32) -> Xv {
//#if X_ACT
  return Xv(x_in(act[x_row + kv], kind));
//#else
  return Xv(act[x_row + kv]);
//#endif
}
fn xdot(w: Wv, x: Xv) -> f32 {
  return dot(w.a, x.a);
}
//#else
struct Wv { a: vec4<f32>, b: vec4<f32> }
struct Xv { a: vec4<f32>, b: vec4<f32> }
fn wv(u: vec4<u32>) -> Wv {
  return Wv(w_first4(u), w_last4(u));
}
fn xv(x_row: u32, kv: u32, kind: u32) -> Xv {
  let i = x_row + 2u * kv;
//#if X_ACT
  return Xv(x_in(act[i], kind), x_in(act[i + 1u], kind));
//#else
  return Xv(act[i], act[i + 1u]);
//#endif
}
fn xdot(w: Wv, x: Xv) -> f32 {
  return dot(w.a, x.a) + dot(w.b, x.b);
}
//#endif

//#if STAGED
// Element idx of the staged chunk from weight vector kc on: input row m = idx / (XV · KCV), X
// vec4 e of that row's chunk (consecutive idx: consecutive addresses). Past the row's K: zero.
fn stage_load(seg: Seg, last_m: u32, kc: u32, k_end: u32, idx: u32) -> vec4<f32> {
  let m = idx / (XV * KCV);
  let k = kc * XV + idx - m * (XV * KCV);
  if (m >= MR || k >= k_end * XV) {
    return vec4<f32>(0.0);
  }
  let v = act[seg.x_off + min(m, last_m) * seg.x_stride + k];
//#if X_ACT
  return x_in(v, seg.x_act);
//#else
  return v;
//#endif
}

fn stage_slot(idx: u32) -> u32 {
  let m = idx / (XV * KCV);
  let e = idx - m * (XV * KCV);
  let j = e / XV;
  return (m * XV + e - j * XV) * KCV + j;
}

// Weight vector kv of the row at `base`; zero from k_end on (this split's end: X is zero there
// too, and a zero weight keeps a non-finite one of another split or row out of the sum).
fn wload(base: u32, kv: u32, k_end: u32) -> vec4<u32> {
  return select(vec4<u32>(0u), wts[base + min(kv, k_end - 1u)], kv < k_end);
}

// Where a row group's sum goes: through `put`, or with SPLIT_K to this split's partials.
fn put_sum(seg: Seg, m: u32, n: u32, v: f32, split: u32) {
//#if SPLIT_K
  let i = partial_at(split, m, padded_total(), seg.row_start + n);
  act[{{SCRATCH}}u + i / 4u][i % 4u] = v;
//#else
  put(seg, m, n, v);
//#endif
}

// The staged X of input row m for the chunk's weight vector j.
fn xs_at(m: u32, j: u32) -> Xv {
//#if W32
  return Xv(xs[m * KCV + j]);
//#else
  return Xv(xs[2u * m * KCV + j], xs[(2u * m + 1u) * KCV + j]);
//#endif
}
//#endif

// Tree sum over the LANES threads of each row group, for the `n` values each put in `part`.
fn reduce_part(lane: u32, lid: u32, n: u32) {
  workgroupBarrier();
  for (var s = LANES / 2u; s > 0u; s = s / 2u) {
    if (lane < s) {
      for (var c = 0u; c < n; c++) {
        part[c * WG + lid] += part[c * WG + lid + s];
      }
    }
    workgroupBarrier();
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
//#if COPY
  if (wid.x == 0u) {
    let shift = shift_at();
    for (var k = lid; k < {{C4}}u; k += WG) {
      pool[shift + k] = act[L.scratch / 4u + k];
    }
  }
//#endif
  let prow = wid.x * ROWS;
  let seg = segs[find_seg(prow)];
  let m_count = min(seg_rows(seg), MR);
  let lane = lid % LANES;
  // This thread's first output row; it owns rows row0 .. row0 + R - 1.
  let row0 = prow - seg.row_start + (lid / LANES) * R;
  // Rows past the matrix (segment padding) and input rows past m_count read a valid row
  // instead of branching in the loop; their sums are never stored.
  let last_row = seg.n_rows - 1u;
  let last_m = max(m_count, 1u) - 1u;
{{SETUP}}
//#if STAGED
  // This split's weight vectors [k_begin, k_end): whole chunks, the last split the rest.
  let split = wid.y;
  let per_split = (seg.k_vec + SPLITS * KCV - 1u) / (SPLITS * KCV) * KCV;
  let k_begin = min(split * per_split, seg.k_vec);
  let k_end = min(k_begin + per_split, seg.k_vec);
  // Chunk 0's X and weights, then per chunk: stage X, load the next chunk, multiply.
{{PRELOAD}}
  var kc = k_begin;
  loop {
    if (kc >= k_end) {
      break;
    }
    workgroupBarrier(); // the previous chunk's readers are done with xs
{{STORE}}
    workgroupBarrier();
    let kn = kc + KCV;
{{LOAD_NEXT}}
{{COMPUTE}}
{{ROTATE}}
    kc = kn;
  }
//#else
  // Loads of weights in flight per iteration: U steps of kv for each of the R rows (four in
  // all; with two, the long-K matrices such as ffn.value left the GPU short of bytes in flight).
  var kv = lane;
  for (; kv + ({{U}}u - 1u) * LANES < seg.k_vec; kv += {{U}}u * LANES) {
{{STEP_U}}
  }
  for (; kv < seg.k_vec; kv += LANES) {
{{STEP_1}}
  }
//#endif
{{REDUCE}}
}
