// What the WebGPU backend's opt-in f16 GEMM input (`--gemm f16`) costs in precision, measured
// on the CPU: a prompt runs through the CPU backend's own forward pass with the input of every
// product over more than MATVEC_MAX_ROWS rows rounded to f16 first — what the tensor-core GEMM
// does in that mode (weights f16-exact, products and sums in f32; products over fewer rows run
// on the GEMV kernel with f32 inputs in both modes) — and its logits are compared with a
// reference. On the GPU benchmark's check model this emulation gives what `bench/gpu.ts --check
// --gemm f16` printed on the H100 (bench/RESULTS.md, fifteenth session), so the official
// fixtures' numbers below stand for the GPU's.
// Prints one JSON line per model (that check model, against the CPU backend; then each fixture,
// against its float64 reference): logits max|Δ| ÷ the reference's spread for
//   f32         the CPU backend as it is (the default GPU path lands near it),
//   f16Input    products' inputs rounded to f16 (`--gemm f16`),
//   f16InOut    inputs and outputs rounded (a rough stand-in for fp16 inference),
// and with --by-class, f16Input for one class of products at a time.
//   node --import tsx bench/f16-precision.ts [--fixtures ../shared/fixtures/rwkv7] [--by-class]
import { parseArgs } from 'node:util';
import { forwardTokens } from '../src/backends/cpu/forward.js';
import { layerNorm, matmul, type MatmulFn } from '../src/backends/cpu/linalg.js';
import { loadCpuWeights, type CpuWeights, type Matrix } from '../src/backends/cpu/weights.js';
import { MATVEC_MAX_ROWS } from '../src/backends/webgpu/dispatch-shape.js';
import { f16ToF32, f32ToF16 } from '../src/io/dtype.js';
import { openCheckpoint } from '../src/io/open-checkpoint.js';
import { describeModel, type ModelFile } from '../src/model/model-file.js';
import { standardConfig, syntheticCheckpoint } from '../src/model/synthetic.js';
import { RwkvState } from '../src/runtime/state.js';
import { fixturesDir, modelFixtures } from '../test/helpers/fixtures.js';

const { values: args } = parseArgs({
  options: {
    fixtures: { type: 'string', default: `${fixturesDir}/rwkv7` },
    'by-class': { type: 'boolean', default: false },
  },
});

const CLASSES = ['proj', 'out', 'ffnKey', 'ffnValue', 'loraDown', 'loraUp', 'head'] as const;
type ProductClass = (typeof CLASSES)[number];

/** Which class each matrix of the model belongs to (the GPU's GEMM dispatches, roughly). */
function classify(w: CpuWeights): Map<Matrix, ProductClass> {
  const out = new Map<Matrix, ProductClass>();
  const put = (m: Matrix | undefined, c: ProductClass) => m && out.set(m, c);
  for (const l of w.layers) {
    [l.wr, l.wk, l.wv].forEach((m) => put(m, 'proj'));
    put(l.wo, 'out');
    put(l.ffnKey, 'ffnKey');
    put(l.ffnValue, 'ffnValue');
    [l.w1, l.a1, l.v1, l.g1].forEach((m) => put(m, 'loraDown'));
    [l.w2, l.a2, l.v2, l.g2].forEach((m) => put(m, 'loraUp'));
  }
  put(w.head, 'head');
  return out;
}

const toF16 = (x: Float32Array) => f16ToF32(f32ToF16(x));

/** matmul with f16-rounded inputs (and outputs) for `classes`' products that the GPU runs as GEMMs. */
function roundingMatmul(
  classOf: Map<Matrix, ProductClass>,
  classes: ReadonlySet<ProductClass>,
  outputs: boolean,
): MatmulFn {
  return (m, x, y, T) => {
    const c = classOf.get(m);
    if (c === undefined) throw new Error(`a ${m.rows}×${m.cols} product of no known class`);
    const round = T > MATVEC_MAX_ROWS && classes.has(c);
    matmul(m, round ? toF16(x) : x, y, T);
    if (round && outputs) y.set(toF16(y));
  };
}

/** A model, a prompt, and the logits its rows should have (with the scale Δ is measured in). */
interface Case {
  name: string;
  model: ModelFile;
  weights: CpuWeights;
  tokens: number[];
  logitRows: number[];
  /** Δ of row r's logit i, as a fraction of the reference's spread. */
  deviation(r: number, i: number, got: number): number;
}

function measure(k: Case): Record<string, unknown> {
  const classOf = classify(k.weights);
  const run = (classes: readonly ProductClass[], outputs = false): number => {
    const state = new RwkvState(k.model.identity);
    const views = Array.from({ length: k.model.config.nLayer }, (_, l) => state.layer(l));
    const mm = roundingMatmul(classOf, new Set(classes), outputs);
    const perLayer = (l: number) => k.tokens.map(() => views[l]);
    const got = forwardTokens(k.model.config, k.weights, k.tokens, perLayer, k.logitRows, mm);
    let worst = 0;
    got.forEach((row, r) => row.forEach((v, i) => (worst = Math.max(worst, k.deviation(r, i, v)))));
    return worst;
  };
  const result: Record<string, unknown> = {
    model: k.name,
    f32: run([]),
    f16Input: run(CLASSES),
    f16InOut: run(CLASSES, true),
  };
  if (args['by-class']) {
    result.f16InputByClass = Object.fromEntries(CLASSES.map((c) => [c, run([c])]));
  }
  return result;
}

// The GPU benchmark's --check model (bench/gpu.ts): against the CPU backend's f32 logits, each
// row's Δ over that row's rms, as --check reports it; its f16Input is what --gemm f16 --check
// printed on the H100.
{
  const cfg = { ...standardConfig('0.1B', 4096), nLayer: 2 };
  const model = await describeModel(syntheticCheckpoint(cfg, { seed: 11 }));
  const weights = await loadCpuWeights(model, layerNorm);
  const tokens = Array.from({ length: 40 }, (_, i) => (i * 997) % cfg.vocabSize);
  const logitRows = tokens.map((_, i) => i);
  const state = new RwkvState(model.identity);
  const views = Array.from({ length: cfg.nLayer }, (_, l) => state.layer(l));
  const ref = forwardTokens(
    cfg,
    weights,
    tokens,
    (l) => tokens.map(() => views[l]),
    logitRows,
    matmul,
  );
  const rms = ref.map((row) => Math.sqrt(row.reduce((a, v) => a + v * v, 0) / row.length));
  console.log(
    JSON.stringify(
      measure({
        name: 'gpu-bench --check model',
        model,
        weights,
        tokens,
        logitRows,
        deviation: (r, i, v) => Math.abs(v - ref[r][i]) / rms[r],
      }),
    ),
  );
}

for (const fx of modelFixtures(args.fixtures)) {
  const ck = await openCheckpoint(fx.files[0]);
  const model = await describeModel(ck);
  const weights = await loadCpuWeights(model, layerNorm);
  await ck.close();
  const { tokens, vocab_size: V, logits_rows: rows, logits_std: std } = fx.reference;
  const expected = fx.logits();
  console.log(
    JSON.stringify(
      measure({
        name: fx.name,
        model,
        weights,
        tokens,
        // The reference's rows are the prompt's last `rows` positions.
        logitRows: Array.from({ length: rows }, (_, i) => tokens.length - rows + i),
        deviation: (r, i, v) => Math.abs(v - expected[r * V + i]) / std,
      }),
    ),
  );
}
