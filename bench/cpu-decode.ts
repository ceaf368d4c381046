// CPU decode benchmark on a synthetic model of a real shape (default 0.1B: L12 C768 V65536).
// Prints JSON: tokens/s, and beside it the work per token against this machine's measured
// single-thread limits (float32 bytes streamed per second, multiply-adds per second in a dot).
//   node --import tsx bench/cpu-decode.ts [--size 0.1B] [--tokens 16]
import { parseArgs } from 'node:util';
import { CpuBackend } from '../src/backends/cpu/cpu-backend.js';
import { describeModel } from '../src/model/model-file.js';
import { standardConfig, syntheticCheckpoint, type StandardSize } from '../src/model/synthetic.js';

const { values } = parseArgs({
  options: { size: { type: 'string', default: '0.1B' }, tokens: { type: 'string', default: '16' } },
});
const size = values.size as StandardSize;
const nTokens = Number(values.tokens);
const config = standardConfig(size);

const t0 = performance.now();
const model = await describeModel(syntheticCheckpoint(config));
const backend = await CpuBackend.load(model);
const loadSeconds = (performance.now() - t0) / 1000;

const state = backend.createState();
await backend.forward(state, [1]); // warm-up: JIT-compile the hot loops
const start = performance.now();
for (let i = 0; i < nTokens; i++) await backend.forward(state, [(i * 7919) % config.vocabSize]);
const seconds = (performance.now() - start) / 1000;

// Weights touched per token (float32 on the CPU): every matrix except the embedding (one row).
let weightFloats = 0;
for (const t of model.checkpoint.tensors.values())
  if (t.name !== 'emb.weight') weightFloats += t.numel;
const bytesPerToken = weightFloats * 4;
const macsPerToken = weightFloats; // one multiply-add per matrix weight (vectors are negligible)

// This machine's single-thread ceiling for the same loop shape: a long float32 dot product.
const probe = new Float32Array(32 * 1024 * 1024).map((_, i) => (i % 13) * 0.01);
const p0 = performance.now();
let sink = 0;
for (let rep = 0; rep < 3; rep++) {
  let s0 = 0;
  let s1 = 0;
  for (let i = 0; i < probe.length; i += 2) {
    s0 += probe[i] * probe[i];
    s1 += probe[i + 1] * probe[i + 1];
  }
  sink += s0 + s1;
}
const probeSeconds = (performance.now() - p0) / 1000;
const streamBytesPerSecond = (3 * probe.byteLength) / probeSeconds;

const tokensPerSecond = nTokens / seconds;
const floorTokensPerSecond = streamBytesPerSecond / bytesPerToken;
console.log(
  JSON.stringify(
    {
      bench: 'cpu-decode',
      model: `synthetic ${size} (L${config.nLayer} C${config.nEmbd} V${config.vocabSize})`,
      threads: 1,
      tokens: nTokens,
      tokens_per_s: +tokensPerSecond.toFixed(2),
      ms_per_token: +((seconds * 1000) / nTokens).toFixed(1),
      weight_bytes_per_token: bytesPerToken,
      achieved_gb_per_s: +((bytesPerToken * tokensPerSecond) / 1e9).toFixed(2),
      achieved_gmac_per_s: +((macsPerToken * tokensPerSecond) / 1e9).toFixed(2),
      single_thread_dot_gb_per_s: +(streamBytesPerSecond / 1e9).toFixed(2),
      floor_tokens_per_s: +floorTokensPerSecond.toFixed(2),
      ratio_to_floor: +(tokensPerSecond / floorTokensPerSecond).toFixed(3),
      load_seconds: +loadSeconds.toFixed(1),
      checksum: Number.isFinite(sink) ? 'ok' : 'nan',
    },
    null,
    2,
  ),
);
