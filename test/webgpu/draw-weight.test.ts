// The draw's weights (kernels/draw-weight.wgsl) against float64: every weight e^{(a − m)·(1/T)}
// in units of 2^-40 must lie within the error bound the kernel reports beside it, and that bound
// must be the tight one (rounding to a unit plus ~2^-36 relative) — an f32 exp, off by up to
// ~1e-6 relative (~1e6 units at weight 1), fails both checks.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { exp2Table, lowHalf } from '../../src/backends/webgpu/draw-kernel.js';
import { loadKernel } from '../../src/backends/webgpu/shader-source.js';
import { Xoshiro128StarStar } from '../../src/runtime/sampling/rng.js';
import { gpu } from './gpu-test-helpers.js';

after(async () => (await gpu()).destroy());

const FIX = 2 ** 40;

// One invocation per case: (a_hi, a_lo, eps, m) and 1/T as (hi, lo) in; (fixed lo, hi, err) out.
const HARNESS = `
struct Params { zero: u32, n: u32, inv_hi: f32, inv_lo: f32 }
@group(0) @binding(0) var<storage, read> cases: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> outs: array<vec4<u32>>;
@group(0) @binding(2) var<uniform> P: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  load_exp2_table(lid);
  workgroupBarrier();
  let i = gid.x;
  if (i >= P.n) {
    return;
  }
  let c = cases[i];
  let w = draw_weight(c.x, c.y, c.z, c.w, vec2<f32>(P.inv_hi, P.inv_lo));
  outs[i] = vec4<u32>(w.fixed.x, w.fixed.y, bitcast<u32>(w.err), 0u);
}
`;

interface Case {
  aHi: number;
  aLo: number;
  eps: number;
  m: number;
}

/** The kernel's (weight in units, error bound) for each case at 1/T = invT. */
async function weightsOnGpu(cases: Case[], invT: number): Promise<{ w: number; err: number }[]> {
  const ctx = await gpu();
  const device = ctx.device;
  const code = (await loadKernel('draw-weight', { EXP2_TABLE: exp2Table() })) + HARNESS;
  const pipeline = await device.createComputePipelineAsync({
    layout: 'auto',
    compute: { module: device.createShaderModule({ code }), entryPoint: 'main' },
  });
  const n = cases.length;
  const input = device.createBuffer({
    size: n * 16,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(
    input,
    0,
    Float32Array.from(cases.flatMap((c) => [c.aHi, c.aLo, c.eps, c.m])),
  );
  const out = device.createBuffer({
    size: n * 16,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const params = device.createBuffer({
    size: 16,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  const p = new ArrayBuffer(16);
  new Uint32Array(p, 0, 2).set([0, n]);
  new Float32Array(p, 8, 2).set([invT, lowHalf(invT)]);
  device.queue.writeBuffer(params, 0, p);
  const read = device.createBuffer({
    size: n * 16,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(
    0,
    device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [input, out, params].map((buffer, binding) => ({ binding, resource: { buffer } })),
    }),
  );
  pass.dispatchWorkgroups(Math.ceil(n / 64));
  pass.end();
  enc.copyBufferToBuffer(out, 0, read, 0, n * 16);
  device.queue.submit([enc.finish()]);
  await ctx.wait(read.mapAsync(GPUMapMode.READ));
  const words = new Uint32Array(read.getMappedRange().slice(0));
  const errs = new Float32Array(words.buffer);
  [input, out, params, read].forEach((b) => b.destroy());
  return cases.map((_, i) => ({
    w: words[4 * i + 1] * 2 ** 32 + words[4 * i],
    err: errs[4 * i + 2],
  }));
}

/** Logits over the whole range the weights take (x from 0 to below −31), a few changed. */
function makeCases(seed: number, invT: number): Case[] {
  const rng = Xoshiro128StarStar.fromSeed(seed);
  const m = Math.fround(3 + 10 * rng.nextFloat());
  const out: Case[] = [{ aHi: m, aLo: 0, eps: 0, m }];
  for (let i = 0; i < 2047; i++) {
    // a − m spread over [−34·T, 0], denser near 0 where the weights are large.
    const z = -34 * rng.nextFloat() ** 2;
    const raw = Math.fround(m + z / invT);
    if (!(raw <= m)) continue;
    if (i % 8 === 0) {
      // A changed token: raw + a float64 change (bias, penalty), as the plan sends it.
      const change = -0.37 * rng.nextFloat() - 1e-9;
      const d = Math.fround(change);
      const aHi = Math.fround(raw + d);
      const aLo = Math.fround(raw + d - aHi + lowHalf(change)); // the kernel's two-sum, here exact
      const eps = (Math.abs(aHi) + Math.abs(d) + Math.abs(raw)) * 2 ** -45;
      out.push({ aHi, aLo, eps, m });
    } else {
      out.push({ aHi: raw, aLo: 0, eps: 0, m });
    }
  }
  return out;
}

describe('draw weights (kernels/draw-weight.wgsl)', () => {
  for (const T of [1, 0.5, 0.7, 2, 1 / 3, 0.002, 10]) {
    it(`T = ${T}: within the reported bound, and the bound is ~1 unit`, async () => {
      const invT = 1 / T;
      const cases = makeCases(Math.round(1000 * T), invT);
      const got = await weightsOnGpu(cases, invT);
      let worst = 0;
      cases.forEach((c, i) => {
        // float64: a_hi + a_lo − m is exact, × 1/T and exp within ~2^-50 relative (< 0.01 unit).
        const exact = Math.exp((c.aHi + c.aLo - c.m) * invT) * FIX;
        const { w, err } = got[i];
        const off = Math.abs(w - exact);
        assert.ok(
          off <= err,
          `case ${i} (x = ${(c.aHi + c.aLo - c.m) * invT}): ${w} units, exact ${exact}, bound ${err}`,
        );
        // Tight: rounding (0.52) plus the relative part (≤ 33·2^-41 of the weight) plus a
        // changed logit's uncertainty (1.3·eps/T).
        const rel = 33 * 2 ** -41 + 1.3 * c.eps * invT * 1.01;
        assert.ok(err <= 0.53 + exact * rel, `case ${i}: bound ${err} for ${exact}`);
        worst = Math.max(worst, off);
      });
      assert.equal(got[0].w, FIX, 'the maximum weighs exactly 2^40 units');
      assert.ok(worst < 0.6, `largest error ${worst} units`);
    });
  }
});
