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

// Before prep_close: kk not yet normalised, bonus = this channel's r·k·r_k, kka unset.
fn prep_terms(row: u32, h: u32, j: u32, lora: vec4<f32>) -> Prep {
  let c = h * N + min(j, N - 1u);
  let xo = row * P.c + c;
  var out: Prep;
  out.decay = exp(-DECAY_SCALE * sigmoid(params[P.w0 + c] + lora.x));
  out.a = sigmoid(params[P.a0 + c] + lora.y);
  var v = act[P.v_off + xo];
  if (P.layer0 == 1u) {
    if (j < N) {
      act[P.vfirst_off + xo] = v;
    }
  } else {
    let mixv = sigmoid(params[P.v0 + c] + lora.z);
    v += (act[P.vfirst_off + xo] - v) * mixv;
  }
  let k_raw = act[P.k_off + xo];
  out.r = act[P.r_off + xo];
  out.kk = k_raw * params[P.k_k + c];
  out.k = k_raw * (1.0 + (out.a - 1.0) * params[P.k_a + c]);
  out.v = v;
  out.g = lora.w;
  out.bonus = out.r * out.k * params[P.r_k + c];
  return out;
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
