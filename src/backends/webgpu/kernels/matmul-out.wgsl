// Shared by the tiled matmuls (matmul-tiled.wgsl, matmul-sgm.wgsl): which tile a workgroup
// computes, the activation applied to X as it is read (x-act.wgsl; needs math.wgsl before), and
// how a finished output tile leaves the workgroup (through `put`, or as a split-K partial in the
// scratch region SCRATCH that matmul-reduce.wgsl adds up).

//#include x-act

/// What one workgroup of a tiled matmul computes: the segment, input rows m0.. of its m_count,
/// output rows n0.. (rows of W), and its split's K steps [kb_begin, kb_end) of `bk` (balanced; a
/// split may get none and then writes zeros). Grid x numbers the `bn`-row output tiles segment
/// by segment, y the `bm`-row input tiles, z the splits of K.
struct TileJob {
  seg: Seg,
  m_count: u32,
  m0: u32,
  n0: u32,
  kb_begin: u32,
  kb_end: u32,
}

fn tile_job(wid: vec3<u32>, nwg: vec3<u32>, bm: u32, bn: u32, bk: u32) -> TileJob {
  var t = wid.x;
  var si = 0u;
  let n_segs = arrayLength(&segs);
  for (; si + 1u < n_segs; si++) {
    let tiles = (segs[si].n_rows + bn - 1u) / bn;
    if (t < tiles) {
      break;
    }
    t -= tiles;
  }
  let seg = segs[si];
  let nb = seg.k_vec * EPV / bk;
  return TileJob(seg, seg_rows(seg), wid.y * bm, t * bn, wid.z * nb / nwg.z, (wid.z + 1u) * nb / nwg.z);
}

struct Out {
  seg: Seg,
  m_count: u32,
  split: u32,
  splits: u32,
  padded: u32, // padded output rows of the dispatch
}

/// Four consecutive outputs at act[i4] (one row of one segment), each exactly as `put` does it.
fn put4(seg: Seg, i4: u32, v: vec4<f32>) {
  var r = v;
  if (seg.op == 2u) {
    let p = max(v, vec4<f32>(0.0));
    r = p * p;
  }
  if (seg.op == 1u) {
    r += act[i4];
  }
  act[i4] = r;
}

/// Four outputs (row m, columns n..n+3 of the segment): through `put` (one vec4 store when the
/// four are a whole aligned vec4 of `act`), or as one partial vec4 of this split in the scratch
/// region. The vec4 store matters: with one scalar store per output, the tensor-core kernel's
/// epilogue took ~0.2 of its ~0.6 ms at M = 1024, N = 10240, K = 2560 (H100, diagnostic build);
/// with it that GEMM went from 91.5 to 107.6 TFLOP/s and 2.9B prefill (T = 4096) gained 7.8 %.
fn emit(o: Out, m: u32, n: u32, v: vec4<f32>) {
  if (m >= o.m_count) {
    return;
  }
  if (o.splits == 1u) {
//#if TO_LOGITS
//#else
    let i = o.seg.y_off + m * o.seg.y_stride + n;
    if (i % 4u == 0u && n + 3u < o.seg.n_rows) {
      put4(o.seg, i / 4u, v);
      return;
    }
//#endif
    for (var j = 0u; j < 4u; j++) {
      if (n + j < o.seg.n_rows) {
        put(o.seg, m, n + j, v[j]);
      }
    }
  } else if (n < (o.seg.n_rows + 63u) / 64u * 64u) {
    act[SCRATCH + partial_at(o.split, m, o.padded, o.seg.row_start + n) / 4u] = v;
  }
}
