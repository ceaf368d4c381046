//#include weights

// Σ_k hid[h0 + k]·W[row][k] for a [C][rank] matrix stored with `vecs` vec4 per row. Four
// weight loads are issued before their first use so their latencies overlap.
fn hid4(i: u32) -> vec4<f32> {
  return vec4<f32>(hid[i], hid[i + 1u], hid[i + 2u], hid[i + 3u]);
}

fn lora_term(u: vec4<u32>, h: u32) -> f32 {
//#if W32
  return dot(w_first4(u), hid4(h));
//#else
  return dot(w_first4(u), hid4(h)) + dot(w_last4(u), hid4(h + 4u));
//#endif
}

fn lora_up(w_off: u32, vecs: u32, row: u32, h0: u32, rank: u32) -> f32 {
  var s = 0.0;
  let base = w_off + row * vecs;
  var q = 0u;
  for (; q + 4u <= vecs; q += 4u) {
    let u0 = wts[base + q];
    let u1 = wts[base + q + 1u];
    let u2 = wts[base + q + 2u];
    let u3 = wts[base + q + 3u];
    let e = h0 + q * EPV;
    s += lora_term(u0, e) + lora_term(u1, e + EPV) + lora_term(u2, e + 2u * EPV) + lora_term(u3, e + 3u * EPV);
  }
  for (; q < vecs; q++) {
    s += lora_term(wts[base + q], h0 + q * EPV);
  }
  return s;
}

// Everything about channel c = h·N + j of one token that needs no state: LoRA up-projections,
// decay, in-context rate, value residual, normalised kk, the modified k, and the head's bonus
// sum Σ r·k·r_k. Contains barriers: call in uniform control flow. Needs var<workgroup> hid.
struct Prep {
  decay: f32,
  kk: f32,
  kka: f32,
  k: f32,
  v: f32,
  r: f32,
  g: f32,
  bonus: f32,
}

fn prep_channel(row: u32, h: u32, j: u32, sg_lane: u32) -> Prep {
  // Workgroups wider than the head: invocations past N compute a copy of channel N − 1 and
  // contribute nothing to the head's sums.
  let in_head = j < N;
  let c = h * N + min(j, N - 1u);
  // Offsets of the four hidden vectors in `hid`, each padded to whole vec4<u32> of weights.
  let hw0 = 0u;
  let ha0 = P.w2_vec * EPV;
  let hv0 = ha0 + P.a2_vec * EPV;
  let hg0 = hv0 + P.v2_vec * EPV;
  let h_total = hg0 + P.g2_vec * EPV;
  let hrow = P.hid_off + row * P.hid_stride;
  for (var q = j; q < h_total; q += WG) {
    var v = 0.0;
    if (q < ha0) {
      if (q < P.dw) { v = tanh_safe(act[hrow + P.hw + q]); }
    } else if (q < hv0) {
      if (q - ha0 < P.da) { v = act[hrow + P.ha + q - ha0]; }
    } else if (q < hg0) {
      if (q - hv0 < P.dv) { v = act[hrow + P.hv + q - hv0]; }
    } else {
      if (q - hg0 < P.dg) { v = sigmoid(act[hrow + P.hg + q - hg0]); }
    }
    hid[q] = v;
  }
  workgroupBarrier();
  let xo = row * P.c + c;
  let decay = exp(-DECAY_SCALE * sigmoid(params[P.w0 + c] + lora_up(P.w2, P.w2_vec, c, hw0, P.dw)));
  let a = sigmoid(params[P.a0 + c] + lora_up(P.a2, P.a2_vec, c, ha0, P.da));
  let g = lora_up(P.g2, P.g2_vec, c, hg0, P.dg);
  var v = act[P.v_off + xo];
  if (P.layer0 == 1u) {
    if (in_head) {
      act[P.vfirst_off + xo] = v;
    }
  } else {
    let mixv = sigmoid(params[P.v0 + c] + lora_up(P.v2, P.v2_vec, c, hv0, P.dv));
    v += (act[P.vfirst_off + xo] - v) * mixv;
  }
  let k_raw = act[P.k_off + xo];
  let r = act[P.r_off + xo];
  let kk_raw = k_raw * params[P.k_k + c];
  let k = k_raw * (1.0 + (a - 1.0) * params[P.k_a + c]);
  let sums = wg_sum2(select(vec2<f32>(0.0), vec2<f32>(kk_raw * kk_raw, r * k * params[P.r_k + c]), in_head), j, sg_lane);
  let kk = kk_raw / max(sqrt(sums.x), 1e-12);
  let bonus = sums.y;
  var out: Prep;
  out.decay = decay;
  out.kk = kk;
  out.kka = kk * a;
  out.k = k;
  out.v = v;
  out.r = r;
  out.g = g;
  out.bonus = bonus;
  workgroupBarrier(); // hid is reused by the next call
  return out;
}
