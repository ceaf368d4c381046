// CPU decode and prefill benchmark on a synthetic model of a real shape (default 0.1B: L12 C768
// V65536). Prints JSON: decode tokens/s (one token per forward), prefill tokens/s (a prompt in
// sequence mode), and beside them the work per token against this machine's measured float32
// streaming rate with the same number of threads (the floor: reading every weight once per
// token at that rate; ratio_to_floor is how close decode comes to it).
//   node --import tsx bench/cpu-decode.ts [--size 0.1B] [--tokens 16] [--prefill 128]
//                                         [--threads N] [--rounds 1]
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { CpuBackend } from '../src/backends/cpu/cpu-backend.js';
import { describeModel } from '../src/model/model-file.js';
import { standardConfig, syntheticCheckpoint, type StandardSize } from '../src/model/synthetic.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '0.1B' },
    tokens: { type: 'string', default: '16' },
    prefill: { type: 'string', default: '128' },
    threads: { type: 'string', default: String(availableParallelism()) },
    rounds: { type: 'string', default: '1' },
  },
});
const size = values.size as StandardSize;
const nTokens = Number(values.tokens);
const nPrefill = Number(values.prefill);
const threads = Number(values.threads);
const rounds = Number(values.rounds);
const config = standardConfig(size);

const t0 = performance.now();
const model = await describeModel(syntheticCheckpoint(config));
const backend = await CpuBackend.load(model, { threads });
const loadSeconds = (performance.now() - t0) / 1000;

const tokenAt = (i: number) => (i * 7919) % config.vocabSize;
await backend.forward(backend.createState(), [1]); // warm-up: JIT-compile the hot loops
await backend.forward(backend.createState(), [1, 2, 3, 4]);
// Other processes share the machine: each figure is the best of `rounds` runs.
let decodeSeconds = Infinity;
let prefillSeconds = Infinity;
for (let round = 0; round < rounds; round++) {
  const state = backend.createState();
  let start = performance.now();
  for (let i = 0; i < nTokens; i++) await backend.forward(state, [tokenAt(i)]);
  decodeSeconds = Math.min(decodeSeconds, (performance.now() - start) / 1000);
  const prompt = Array.from({ length: nPrefill }, (_, i) => tokenAt(i + 1));
  start = performance.now();
  await backend.forward(backend.createState(), prompt);
  prefillSeconds = Math.min(prefillSeconds, (performance.now() - start) / 1000);
}
const workerBlocks = backend.workerBlocks;
await backend.dispose();

// Weights touched per token (float32 on the CPU): every matrix except the embedding (one row).
let weightFloats = 0;
for (const t of model.checkpoint.tensors.values())
  if (t.name !== 'emb.weight') weightFloats += t.numel;
const bytesPerToken = weightFloats * 4;
const macsPerToken = weightFloats; // one multiply-add per matrix weight (vectors are negligible)

const probeData = new Float32Array(new SharedArrayBuffer(32 * 1024 * 1024 * 4));
for (let i = 0; i < probeData.length; i++) probeData[i] = (i % 13) * 0.01;
let streamBytesPerSecond = 0;
for (let round = 0; round < rounds; round++) {
  streamBytesPerSecond = Math.max(
    streamBytesPerSecond,
    await streamRate(probeData, backend.threads),
  );
}
const tokensPerSecond = nTokens / decodeSeconds;
const floorTokensPerSecond = streamBytesPerSecond / bytesPerToken;
console.log(
  JSON.stringify(
    {
      bench: 'cpu-decode',
      model: `synthetic ${size} (L${config.nLayer} C${config.nEmbd} V${config.vocabSize})`,
      threads: backend.threads,
      rounds,
      tokens: nTokens,
      tokens_per_s: +tokensPerSecond.toFixed(2),
      ms_per_token: +((decodeSeconds * 1000) / nTokens).toFixed(1),
      prefill_tokens: nPrefill,
      prefill_tokens_per_s: +(nPrefill / prefillSeconds).toFixed(2),
      worker_blocks: workerBlocks,
      weight_bytes_per_token: bytesPerToken,
      achieved_gb_per_s: +((bytesPerToken * tokensPerSecond) / 1e9).toFixed(2),
      achieved_gmac_per_s: +((macsPerToken * tokensPerSecond) / 1e9).toFixed(2),
      dot_gb_per_s: +(streamBytesPerSecond / 1e9).toFixed(2),
      floor_tokens_per_s: +floorTokensPerSecond.toFixed(2),
      ratio_to_floor: +(tokensPerSecond / floorTokensPerSecond).toFixed(3),
      load_seconds: +loadSeconds.toFixed(1),
    },
    null,
    2,
  ),
);

/**
 * This machine's float32 streaming rate with `n` threads: `n` workers each stream their own
 * slice of `data` (128 MiB, far beyond the caches) through a two-accumulator dot product, all
 * at once, while this thread only keeps time. Returns total bytes per second.
 */
async function streamRate(data: Float32Array, n: number): Promise<number> {
  const floats = data.length;
  const passes = 3;
  const sync = new Int32Array(new SharedArrayBuffer(8)); // [go, finished workers]
  const slice = Math.floor(floats / n / 2) * 2;
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { data, sync, from, to, passes } = workerData;
    function dot(a, lo, hi) {
      let s0 = 0;
      let s1 = 0;
      for (let i = lo; i < hi; i += 2) {
        s0 += a[i] * a[i];
        s1 += a[i + 1] * a[i + 1];
      }
      return s0 + s1;
    }
    let sink = 0;
    for (let rep = 0; rep < 20; rep++) sink += dot(data, from, from + 65536); // JIT warm-up
    parentPort.postMessage('ready');
    Atomics.wait(sync, 0, 0);
    for (let rep = 0; rep < passes; rep++) sink += dot(data, from, to);
    Atomics.add(sync, 1, 1);
    Atomics.notify(sync, 1);
    parentPort.postMessage(sink);`;
  const workers = Array.from(
    { length: n },
    (_, k) =>
      new Worker(source, {
        eval: true,
        workerData: { data, sync, from: k * slice, to: (k + 1) * slice, passes },
      }),
  );
  const messages = workers.map((w) => {
    const all: unknown[] = [];
    w.on('message', (m) => all.push(m));
    return new Promise<unknown[]>((ok) => w.once('exit', () => ok(all)));
  });
  await Promise.all(workers.map((w) => new Promise((ok) => w.once('message', ok))));
  const start = performance.now();
  Atomics.store(sync, 0, 1);
  Atomics.notify(sync, 0);
  for (let done = Atomics.load(sync, 1); done < n; done = Atomics.load(sync, 1)) {
    Atomics.wait(sync, 1, done);
  }
  const seconds = (performance.now() - start) / 1000;
  const sums = (await Promise.all(messages)).map((m) => m[m.length - 1]);
  if (!sums.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new Error(`stream probe produced a bad sum: ${sums.join(', ')}`);
  }
  return (passes * slice * n * 4) / seconds;
}
