// Activation functions written so that no input overflows to NaN (exp of a large argument gives
// inf, and inf/inf would be NaN; these only ever divide by a finite or infinite denominator).
fn sigmoid(x: f32) -> f32 {
  return 1.0 / (1.0 + exp(-x));
}

fn tanh_safe(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}
