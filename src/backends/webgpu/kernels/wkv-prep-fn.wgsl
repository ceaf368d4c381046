//#include weights
//#include wkv-prep-elem

// LoRA up-projections Σ_k hid[h0 + k]·W[row][k] of [C][rank] matrices stored with `vecs` vec4
// per row. Four weight loads are issued before their first use so their latencies overlap.
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

// Part of one such sum: the vec4 columns q0, q0 + qs, q0 + 2·qs, … (qs invocations
// share one row, so the serial chain of dependent loads is qs times shorter).
fn lora_up_part(w_off: u32, vecs: u32, row: u32, h0: u32, q0: u32, qs: u32) -> f32 {
  var s = 0.0;
  let base = w_off + row * vecs;
  var q = q0;
  for (; q + 3u * qs < vecs; q += 4u * qs) {
    let u0 = wts[base + q];
    let u1 = wts[base + q + qs];
    let u2 = wts[base + q + 2u * qs];
    let u3 = wts[base + q + 3u * qs];
    let e = h0 + q * EPV;
    s += lora_term(u0, e) + lora_term(u1, e + qs * EPV) + lora_term(u2, e + 2u * qs * EPV) + lora_term(u3, e + 3u * qs * EPV);
  }
  for (; q < vecs; q += qs) {
    s += lora_term(wts[base + q], h0 + q * EPV);
  }
  return s;
}

// Workgroups of WG ≥ N invocations split each channel's LoRA up-projections LORA_PARTS ways;
// the parts meet here (x: decay, y: iclr, z: value residual, w: gate).
const LORA_PARTS: u32 = WG / N;
var<workgroup> lora_part: array<vec4<f32>, WG>;

// Offsets of the four hidden vectors in `hid` (x: decay, y: iclr, z: value residual, w: gate),
// each padded to whole vec4<u32> of weights.
fn hid_offsets() -> vec4<u32> {
  let ha0 = P.w2_vec * EPV;
  let hv0 = ha0 + P.a2_vec * EPV;
  return vec4<u32>(0u, ha0, hv0, hv0 + P.v2_vec * EPV);
}

// The token's four LoRA hidden vectors into `hid` (tanh of the decay's, sigmoid of the gate's),
// zero in each vector's padding. Follow with a barrier before reading `hid`.
fn fill_hid(row: u32, j: u32) {
  let o = hid_offsets();
  let h_total = o.w + P.g2_vec * EPV;
  let hrow = P.hid_off + row * P.hid_stride;
  for (var q = j; q < h_total; q += WG) {
    var v = 0.0;
    if (q < o.y) {
      if (q < P.dw) { v = tanh_safe(act[hrow + P.hw + q]); }
    } else if (q < o.z) {
      if (q - o.y < P.da) { v = act[hrow + P.ha + q - o.y]; }
    } else if (q < o.w) {
      if (q - o.z < P.dv) { v = act[hrow + P.hv + q - o.z]; }
    } else {
      if (q - o.w < P.dg) { v = sigmoid(act[hrow + P.hg + q - o.w]); }
    }
    hid[q] = v;
  }
}

// Everything about channel c = h·N + j of one token that needs no state (see wkv-prep-elem),
// with the LoRA up-projections done here as dot products over `hid`. Contains barriers: call
// in uniform control flow. Needs var<workgroup> hid.
fn prep_channel(row: u32, h: u32, j: u32, sg_lane: u32) -> Prep {
  fill_hid(row, j);
  workgroupBarrier();
  {
    let o = hid_offsets();
    let part = j / N;
    let ch = h * N + j % N;
    lora_part[j] = vec4<f32>(
      lora_up_part(P.w2, P.w2_vec, ch, o.x, part, LORA_PARTS),
      lora_up_part(P.a2, P.a2_vec, ch, o.y, part, LORA_PARTS),
      lora_up_part(P.v2, select(P.v2_vec, 0u, P.layer0 == 1u), ch, o.z, part, LORA_PARTS), // unused in layer 0
      lora_up_part(P.g2, P.g2_vec, ch, o.w, part, LORA_PARTS),
    );
  }
  return prep_finish(row, h, j, sg_lane, prep_load(row, h, j));
}

// Channel j's four LoRA sums from the parts in lora_part (after a barrier).
fn lora_total(j: u32) -> vec4<f32> {
  var lora = vec4<f32>(0.0);
  for (var p = 0u; p < LORA_PARTS; p++) {
    lora += lora_part[p * N + min(j, N - 1u)];
  }
  return lora;
}

// The rest of prep_channel once every invocation has put its part of the LoRA sums in
// lora_part[j]: their sum, the channel's terms and the head sums. Contains barriers.
fn prep_finish(row: u32, h: u32, j: u32, sg_lane: u32, inp: PrepIn) -> Prep {
  workgroupBarrier();
  let terms = prep_terms_from(inp, row, h, j, lora_total(j));
  let out = prep_close(terms, wg_sum2(prep_sum_in(terms, j), j, sg_lane));
  workgroupBarrier(); // hid and lora_part are reused by the next call
  return out;
}
