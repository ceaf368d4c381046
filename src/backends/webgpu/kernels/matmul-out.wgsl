// Shared by the tiled matmuls (matmul-tiled.wgsl, matmul-sgm.wgsl): the activation applied to X
// as it is read (x-act.wgsl; needs math.wgsl before), and how a finished output tile leaves the workgroup (through `put`, or as a
// split-K partial in the scratch region SCRATCH that matmul-reduce.wgsl adds up).

//#include x-act

/// Which segment, and which of its output tiles of `bn` rows of W, workgroup column `t` computes
/// (x: segment index, y: tile within it): tiles are numbered segment by segment.
fn tile_of(t: u32, bn: u32) -> vec2<u32> {
  var rest = t;
  var si = 0u;
  let n_segs = arrayLength(&segs);
  for (; si + 1u < n_segs; si++) {
    let tiles = (segs[si].n_rows + bn - 1u) / bn;
    if (rest < tiles) {
      break;
    }
    rest -= tiles;
  }
  return vec2<u32>(si, rest);
}

/// Padded output rows of the whole dispatch (segments start at multiples of 64).
fn padded_total() -> u32 {
  let last = segs[arrayLength(&segs) - 1u];
  return last.row_start + (last.n_rows + 63u) / 64u * 64u;
}

struct Out {
  seg: Seg,
  m_count: u32,
  split: u32,
  splits: u32,
  padded: u32, // padded output rows of the dispatch
}

/// Four outputs (row m, columns n..n+3 of the segment): through `put`, or as one partial vec4
/// of this split in the scratch region.
fn emit(o: Out, m: u32, n: u32, v: vec4<f32>) {
  if (m >= o.m_count) {
    return;
  }
  if (o.splits == 1u) {
    for (var j = 0u; j < 4u; j++) {
      if (n + j < o.seg.n_rows) {
        put(o.seg, m, n + j, v[j]);
      }
    }
  } else if (n < (o.seg.n_rows + 63u) / 64u * 64u) {
    act[SCRATCH + ((o.split * step.rows + m) * o.padded + o.seg.row_start + n) / 4u] = v;
  }
}
