// LayerNorm statistics of one row of C floats spread over a workgroup (used by embed, ln-mix,
// ln-rows and matvec-ln): invocation lid holds the vec4 k = lid + e·WG of the row in v[e]
// (e < PER); entries with k ≥ n4 (= C / 4) are ignored. Two passes over the registers — the
// mean, then the mean squared deviation — as torch's layer_norm, not E[x²] − E[x]², which
// loses digits when the mean is large. Returns (mean, 1 / sqrt(var + EPS)).
// Needs: const WG, PER, EPS. Call in uniform control flow (it has barriers).

//#include reduce

fn ln_stats(v: ptr<function, array<vec4<f32>, PER>>, n4: u32, lid: u32, sg_lane: u32) -> vec2<f32> {
  var s = vec4<f32>(0.0);
  for (var e = 0u; e < PER; e++) {
    if (lid + e * WG < n4) {
      s += (*v)[e];
    }
  }
  let n = f32(n4 * 4u);
  let mean = wg_sum(s.x + s.y + s.z + s.w, lid, sg_lane) / n;
  var d2 = vec4<f32>(0.0);
  for (var e = 0u; e < PER; e++) {
    if (lid + e * WG < n4) {
      let d = (*v)[e] - mean;
      d2 += d * d;
    }
  }
  let var_ = wg_sum(d2.x + d2.y + d2.z + d2.w, lid, sg_lane) / n;
  return vec2<f32>(mean, inverseSqrt(var_ + EPS));
}

// (x − mean)·rstd·w + b for stats st = (mean, rstd).
fn ln_apply(x: vec4<f32>, st: vec2<f32>, w: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
  return (x - st.x) * st.y * w + b;
}
