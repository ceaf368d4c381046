// Second pass of a split-K matmul (kernels/matmul-tiled.wgsl with several splits): adds the
// SPLITS partial tiles of each output in split order (so the sum is the same every run) and
// stores it through `put` (store, residual add or relu²). One thread per 4 consecutive
// padded output rows of one input row; grid x covers the padded rows, y the input rows.
const WG: u32 = 256u;
const SPLITS: u32 = {{SPLITS}}u;
const SCRATCH: u32 = {{SCRATCH}}u;

//#include matmul-common

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let pr = padded_total();
  let p = (wid.x * WG + lid) * 4u;
  let m = wid.y;
  if (p >= pr) {
    return;
  }
  let seg = segs[find_seg(p)];
  if (m >= seg_rows(seg)) {
    return;
  }
  var v = act[SCRATCH + partial_at(0u, m, pr, p) / 4u];
  for (var s = 1u; s < SPLITS; s++) {
    v += act[SCRATCH + partial_at(s, m, pr, p) / 4u];
  }
  let n = p - seg.row_start;
  for (var j = 0u; j < 4u; j++) {
    if (n + j < seg.n_rows) {
      put(seg, m, n + j, v[j]);
    }
  }
}
