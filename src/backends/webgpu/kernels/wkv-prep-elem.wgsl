// The per-channel part of the state-free wkv work, once the four LoRA up-projections of channel
// c = h·N + j are known (lora x: decay, y: iclr, z: value residual, w: gate): decay, in-context
// rate, value residual, normalised kk, the modified k, and the head's bonus sum Σ r·k·r_k.
// In three steps so that each kernel sums over the head its own way:
//   p = prep_terms(…);  sums = <head sum of prep_sum_in(p, j)>;  p = prep_close(p, sums)
// Invocations j ≥ N compute a copy of channel N − 1 and contribute nothing to the sums.
struct Prep {
  decay: f32,
  kk: f32,
  kka: f32,
  k: f32,
  v: f32,
  r: f32,
  g: f32,
  bonus: f32,
  a: f32,
}

// The inputs of channel c = h·N + j of one token (parameters and activations), loaded apart from
// their use so that single-token kernels can issue them first (their latency then overlaps the
// LoRA work; kernels/wkv-decode.wgsl).
struct PrepIn {
  w0: f32,
  a0: f32,
  v0: f32,
  k_k: f32,
  k_a: f32,
  r_k: f32,
  v: f32,
  vfirst: f32, // 0 in layer 0 (which writes it)
  k: f32,
  r: f32,
}

fn prep_load(row: u32, h: u32, j: u32) -> PrepIn {
  let c = h * N + min(j, N - 1u);
  let xo = row * P.c + c;
  var o: PrepIn;
  o.w0 = params[P.w0 + c];
  o.a0 = params[P.a0 + c];
  o.k_k = params[P.k_k + c];
  o.k_a = params[P.k_a + c];
  o.r_k = params[P.r_k + c];
  o.v = act[P.v_off + xo];
  o.k = act[P.k_off + xo];
  o.r = act[P.r_off + xo];
  if (P.layer0 == 0u) {
    o.v0 = params[P.v0 + c];
    o.vfirst = act[P.vfirst_off + xo];
  }
  return o;
}

// Before prep_close: kk not yet normalised, bonus = this channel's r·k·r_k, kka unset. Layer 0
// stores v as the value-residual source (vfirst).
fn prep_terms_from(inp: PrepIn, row: u32, h: u32, j: u32, lora: vec4<f32>) -> Prep {
  var out: Prep;
  out.decay = exp(-DECAY_SCALE * sigmoid(inp.w0 + lora.x));
  out.a = sigmoid(inp.a0 + lora.y);
  var v = inp.v;
  if (P.layer0 == 1u) {
    if (j < N) {
      act[P.vfirst_off + row * P.c + h * N + j] = v;
    }
  } else {
    let mixv = sigmoid(inp.v0 + lora.z);
    v += (inp.vfirst - v) * mixv;
  }
  out.r = inp.r;
  out.kk = inp.k * inp.k_k;
  out.k = inp.k * (1.0 + (out.a - 1.0) * inp.k_a);
  out.v = v;
  out.g = lora.w;
  out.bonus = out.r * out.k * inp.r_k;
  return out;
}

fn prep_terms(row: u32, h: u32, j: u32, lora: vec4<f32>) -> Prep {
  return prep_terms_from(prep_load(row, h, j), row, h, j, lora);
}

// What channel j adds to the head sums: x: kk², y: r·k·r_k.
fn prep_sum_in(p: Prep, j: u32) -> vec2<f32> {
  return select(vec2<f32>(0.0), vec2<f32>(p.kk * p.kk, p.bonus), j < N);
}

fn prep_close(p: Prep, sums: vec2<f32>) -> Prep {
  var out = p;
  out.kk = p.kk / max(sqrt(sums.x), 1e-12);
  out.kka = out.kk * p.a;
  out.bonus = sums.y;
  return out;
}
