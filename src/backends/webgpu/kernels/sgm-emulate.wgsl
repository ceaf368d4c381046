// Test-only stand-ins for the subgroup-matrix builtins that kernels/matmul-sgm.wgsl uses, so that
// a device without them (lavapipe in CI) runs that kernel's staging, tiling, K splits and
// epilogue exactly as written and only the 16×16×16 products differ in who computes them.
// Groups of 32 invocations (by local index) stand for subgroups; lane l owns row l / 2, columns
// 8·(l % 2) … +7 of a result tile. A "loaded" operand is just its offset in workgroup memory:
// the kernel multiplies before the next barrier, while the staged tiles are unchanged. Inputs
// f16, products and sums f32, as on the tensor cores.
alias SgmAcc = array<f32, 8>;

// acc + L·R for the row-major left operand at xs[l] and the column-major right one at ws[r]
// (rows / columns LDS apart).
fn sgm_mma(l: u32, r: u32, lane: u32, acc: SgmAcc) -> SgmAcc {
  var out = acc;
  let row = l + (lane / 2u) * LDS;
  for (var c = 0u; c < 8u; c++) {
    let col = r + ((lane % 2u) * 8u + c) * LDS;
    var s = out[c];
    for (var k = 0u; k < 16u; k++) {
      s += f32(xs[row + k]) * f32(ws[col + k]);
    }
    out[c] = s;
  }
  return out;
}

// Row-major store of the tile into cs[off], rows 16 apart.
fn sgm_store(off: u32, lane: u32, acc: SgmAcc) {
  for (var c = 0u; c < 8u; c++) {
    cs[off + (lane / 2u) * 16u + (lane % 2u) * 8u + c] = acc[c];
  }
}
