// GPU benchmark of the WebGPU backend on synthetic models of the released RWKV-7 shapes.
// Prints one JSON object per model size (and a probe of the adapter first):
//   decode: batch-1 tok/s (tokens fed back on the GPU, steps submitted ahead, and with a CPU
//   round trip per token; timed after 0.5 s of warm-up decoding, the first run also
//   reported), its ratio to the bandwidth floor (weight bytes read per token ÷ the
//   --bandwidth, default 3.0 TB/s for the H100), throughput at each --batches size, prefill
//   tok/s at each --prefill length (best of three timed runs after untimed ones), and the
//   server's decode path (scheduler + sampler, T = 1) at each --sampled batch size with the
//   sampler's draw on the GPU and with every row read back (sampled-decode.ts).
//   node --import tsx bench/gpu.ts --sizes 0.1B,2.9B --batches 1,8,32,128 --prefill 512,4096
import { parseArgs } from 'node:util';
import { CpuBackend } from '../src/backends/cpu/cpu-backend.js';
import { WebGpuBackend } from '../src/backends/webgpu/backend.js';
import { createGpuContext, type GemmChoice } from '../src/backends/webgpu/device.js';
import { GpuSessions } from '../src/backends/webgpu/sessions.js';
import type { WkvScan } from '../src/backends/webgpu/wkv-scan-form.js';
import { describeModel } from '../src/model/model-file.js';
import {
  STANDARD_SHAPES,
  standardConfig,
  syntheticCheckpoint,
  type StandardSize,
} from '../src/model/synthetic.js';
import { encodeCost, profileStep } from './gpu-profile.js';
import { sampledDecode } from './sampled-decode.js';
import { helpText } from './usage.js';

// Each option's line of --help beside its parse rule (usage.ts).
const OPTIONS = {
  help: { type: 'boolean', short: 'h', default: false, help: 'this list' },
  sizes: { type: 'string', default: '0.1B,1.5B,2.9B,7.2B', help: 'synthetic model shapes' },
  batches: {
    type: 'string',
    default: '1,8,32,128',
    help: 'decode batch sizes (1: batch-1 tok/s and its ratio to the floor)',
  },
  prefill: { type: 'string', default: '512,4096', help: 'prompt lengths for prefill tok/s' },
  layers: {
    type: 'string',
    default: '',
    help: 'layers per model (default: the real count); fewer for quick kernel profiles (pin --max-rows)',
  },
  sampled: {
    type: 'string',
    default: '1,32,128',
    help: 'batch sizes of the scheduler decode with T = 1 sampling (GPU draw vs read-back)',
  },
  steps: { type: 'string', default: '64', help: 'timed decode steps per batch size' },
  'max-rows': {
    type: 'string',
    default: 'auto',
    help: 'tokens per step (prefill chunk); auto: the backend\u2019s default for the model',
  },
  bandwidth: { type: 'string', default: '3.0e12', help: 'bytes/s of the floor (H100 HBM3)' },
  check: {
    type: 'boolean',
    default: false,
    help: 'first compare GPU and CPU backends on a small model',
  },
  profile: { type: 'boolean', default: false, help: 'per-kernel GPU times (timestamp queries)' },
  'unsafe-no-robustness': {
    type: 'boolean',
    default: false,
    help: "Dawn's bounds checks off in every kernel (dawn-flags.ts: opt-in only)",
  },
  gemm: {
    type: 'string',
    default: 'auto',
    help: 'GEMM kernel: auto | f32 | f16 (tensor cores with X rounded to f16; DeviceOptions.gemm)',
  },
  'wkv-scan': {
    type: 'string',
    default: 'auto',
    help: "the prefill wkv's recurrence: auto|serial|chunked (wkv-scan-form.ts)",
  },
} as const;
const USAGE = helpText(
  'usage: bench/gpu.ts [options]   (prints one JSON line per model size)',
  OPTIONS,
);

const { values: args } = parseArgs({ options: OPTIONS });
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
const list = (s: string) =>
  s
    .split(',')
    .filter((x) => x)
    .map(Number);
const now = () => performance.now();
// Checked by the backend (chooseWkvScan: an unknown form is refused by name).
const wkvScan = args['wkv-scan'] as WkvScan | 'auto';

const ctx = await createGpuContext({
  timestamps: args.profile,
  // Checked by createGpuContext (an unknown choice is refused by name).
  gemm: args.gemm as GemmChoice,
  robustness: !args['unsafe-no-robustness'],
  // Dawn rounds timestamps to 100 µs unless told not to.
  dawnFlags: args.profile ? ['disable-dawn-features=timestamp_quantization'] : [],
});
const info = ctx.device.adapterInfo as GPUAdapterInfo & { subgroupMatrixConfigs?: object[] };
const sgm = (info.subgroupMatrixConfigs ?? []).map((c) => {
  const o: Record<string, unknown> = {};
  for (const k in c) o[k] = (c as Record<string, unknown>)[k];
  return o;
});
console.log(JSON.stringify({ probe: { caps: ctx.caps, subgroupMatrixConfigs: sgm } }));

if (args.check) {
  // Same synthetic model through the CPU backend (one thread) and the GPU: the kernels must
  // agree before any timing means anything.
  const cfg = { ...standardConfig('0.1B', 4096), nLayer: 2 };
  const model = await describeModel(syntheticCheckpoint(cfg, { seed: 11 }));
  const cpu = await CpuBackend.load(model, { threads: 1 });
  const gpu = await WebGpuBackend.load(model, { context: ctx, maxRows: 64, wkvScan });
  const toks = Array.from({ length: 40 }, (_, i) => (i * 997) % cfg.vocabSize);
  const a = await cpu.forwardAll(cpu.createState(), toks);
  const sg = gpu.createState();
  const b = await gpu.forwardAll(sg, toks);
  const sd = (x: Float32Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
  let worst = 0;
  a.forEach((row, t) =>
    row.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - b[t][i]) / sd(row)))),
  );
  const st = cpu.createState();
  for (const t of toks) await cpu.forward(st, [t]);
  await sg.sync(); // the GPU state stays on the device until synced
  let sw = 0;
  st.data.forEach((v, i) => (sw = Math.max(sw, Math.abs(v - sg.data[i]))));
  console.log(
    JSON.stringify({
      check: { logitsMaxRelDiff: worst, stateMaxAbsDiff: sw, stateStd: sd(st.data) },
    }),
  );
  await gpu.dispose();
  await cpu.dispose();
}

for (const size of args.sizes.split(',').filter((s) => s) as StandardSize[]) {
  if (!(size in STANDARD_SHAPES)) throw new Error(`unknown size ${size}`);
  // --layers: fewer layers of the same shape for quick per-kernel timing (the per-layer kernels
  // and their costs are unchanged; tok/s and the floor then describe that shorter model).
  const layers = args.layers === '' ? undefined : Number(args.layers);
  if (layers !== undefined && !(Number.isInteger(layers) && layers >= 1)) {
    throw new Error(`--layers ${args.layers}: want a whole number ≥ 1`);
  }
  const cfg = { ...standardConfig(size), ...(layers ? { nLayer: layers } : {}) };
  const t0 = now();
  const ck = syntheticCheckpoint(cfg, { sharedBlocks: true });
  const model = await describeModel(ck);
  const batches = list(args.batches);
  const be = await WebGpuBackend.load(model, {
    context: ctx,
    maxRows:
      args['max-rows'] === 'auto' ? undefined : Math.max(Number(args['max-rows']), ...batches),
    initialSlots: Math.max(...batches, 1),
    // Every sampled-decode job's state stays on the GPU, as in a server sized for the batch.
    maxResidentStates: Math.max(32, ...list(args.sampled)),
    wkvScan,
  });
  const loadMs = now() - t0;
  if (be.stepRows < Math.max(...batches, 1)) {
    throw new Error(
      `${size}: step capacity ${be.stepRows} rows is below batch ${Math.max(...batches)}: pass --max-rows`,
    );
  }
  const plan = be.runner.weightsPlan;
  // Bytes read per token at batch 1: every matrix except the embedding (one row of it).
  const weightBytes =
    plan.all.reduce((n, m) => n + (m.name === 'emb.weight' ? 0 : m.rows * m.kVec * 16), 0) +
    plan.emb.kVec * 16;
  const floorTokS = Number(args.bandwidth) / weightBytes;
  const sessions = new GpuSessions(be);
  const steps = Number(args.steps);
  const out: Record<string, unknown> = {
    model: size,
    config: cfg,
    loadMs: Math.round(loadMs),
    weightBytesPerToken: weightBytes,
    memory: be.memory(),
    wkvScan: be.runner.opts.wkvScan,
    // The model's own GEMM kernel: f32 weights, or bf16 beyond f16's range, keep the f32 one.
    gemmKernel: be.gemmKernel,
    maxRows: be.stepRows,
  };

  const decode: Record<string, number> = {};
  for (const B of batches) {
    const slots = Array.from({ length: B }, () => sessions.open());
    const first = slots.map((_, i) => (i * 7919) % cfg.vocabSize);
    await sessions.greedy(slots, first, 4); // warm-up: pipelines, caches
    if (B === 1) {
      // What the previous protocol measured: the first run after the short warm-up above. The
      // H100 idles at 345 MHz and needs a few hundred ms of work to reach its clocks: 2.9B,
      // 256 steps ran at 4.11 ms/token like this and 3.71 ms/token repeated at once.
      const t = now();
      await sessions.greedy(slots, first, steps);
      decode.batch1FirstRun = steps / ((now() - t) / 1000);
    }
    // Warm the clocks: at least 0.5 s of decoding before timing.
    for (const w = now(); now() - w < 500;) await sessions.greedy(slots, first, 16);
    const t = now();
    await sessions.greedy(slots, first, steps);
    decode[`batch${B}`] = (B * steps) / ((now() - t) / 1000);
    slots.forEach((s) => sessions.close(s));
  }
  out.decodeTokS = decode;
  out.batch1FloorTokS = floorTokS;
  if (decode.batch1) out.batch1OfFloor = decode.batch1 / floorTokS;
  {
    // A CPU round trip per token (the runtime's sampling loop): top-1 read back each step.
    const slot = sessions.open();
    let tok = 1;
    for (let i = 0; i < 4; i++)
      tok = (
        (await sessions.step([{ slot, tokens: [tok] }], { topK: 1 }))[0] as {
          top: { token: number }[];
        }
      ).top[0].token;
    const t = now();
    for (let i = 0; i < steps; i++)
      tok = (
        (await sessions.step([{ slot, tokens: [tok] }], { topK: 1 }))[0] as {
          top: { token: number }[];
        }
      ).top[0].token;
    out.batch1SyncTokS = steps / ((now() - t) / 1000);
    sessions.close(slot);
  }
  {
    // The path of `rwkv generate`: Backend.forward on an RwkvState (kept on the GPU between
    // calls), the whole logits row read back, argmax on the CPU.
    const state = be.createState();
    let tok = 1;
    const stepOnce = async () => {
      const logits = await be.forward(state, [tok]);
      let best = 0;
      for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
      tok = best;
    };
    for (let i = 0; i < 4; i++) await stepOnce();
    const uploads = be.memory().stateUploads;
    const t = now();
    for (let i = 0; i < steps; i++) await stepOnce();
    out.batch1BackendTokS = steps / ((now() - t) / 1000);
    out.batch1BackendStateUploads = be.memory().stateUploads - uploads;
  }
  {
    // The server's path: the scheduler with a Sampler per job (sampled-decode.ts).
    const sampled: Record<string, unknown> = {};
    for (const B of list(args.sampled)) {
      sampled[`batch${B}`] = {
        flat: await sampledDecode(be, B, steps, false),
        peaked: await sampledDecode(be, B, steps, true),
      };
    }
    out.sampledTokS = sampled;
  }
  const prefill: Record<string, number> = {};
  for (const T of list(args.prefill)) {
    const tokens = Array.from({ length: T }, (_, i) => (i * 31337) % cfg.vocabSize);
    const slot = sessions.open();
    const run = async () => {
      await sessions.write(slot, be.createState());
      const t = now();
      await sessions.step([{ slot, tokens }], { topK: 1 });
      return now() - t;
    };
    // Untimed first, for at least 300 ms: the chunk shapes compile their own GEMM pipelines (for
    // the 0.1B model at T = 512 the compile alone took longer than the prefill), and the clock
    // must ramp up from idle — the sampled-decode runs before this leave the GPU mostly idle,
    // and one untimed run was not enough (H100, 1.5B, T = 512: 6 306 tok/s after one untimed
    // run, 19 780 after 300 ms of them). At least three of them, and the best of three timed:
    // after the sampled runs a first 2.9B T = 512 run alone took 338 ms (its GEMM shapes'
    // compiles and more), so one run could end the warm-up; a full table's call read 7 368 tok/s
    // there, 12 622 with this warm-up (12 800–13 220 in calls without sampled runs; H100,
    // eighteenth session).
    for (let n = 0, warm = now(); n < 3 || now() - warm < 300; n++) await run();
    const best = Math.min(await run(), await run(), await run());
    prefill[`T${T}`] = T / (best / 1000);
    sessions.close(slot);
  }
  out.prefillTokS = prefill;
  if (args.profile) {
    // At least one slot: with --batches "" the batch-1 encode cost still needs a sequence.
    const slots = Array.from({ length: Math.max(...batches, 1) }, () => sessions.open());
    const step = (n: number) =>
      slots.slice(0, n).map((slot, i) => ({ slot, tokens: [i + 1], logits: [0] }));
    out.encodeMsBatch1 = await encodeCost(be, step(1));
    const prof: Record<string, unknown> = {};
    // Each profile is the second of two identical runs: after the CPU-side work above the H100
    // sits at idle clocks, and a first profiled step alone summed to 5× the real step time.
    for (const B of batches) {
      await profileStep(be, step(B));
      prof[`batch${B}`] = await profileStep(be, step(B));
    }
    // A full prefill chunk, and each shorter --prefill length (one chunk of its own).
    const maxRows = be.stepRows;
    const chunks = new Set([...list(args.prefill).filter((t) => t < maxRows), maxRows]);
    for (const T of chunks) {
      const chunk = Array.from({ length: T }, (_, i) => (i * 31337) % cfg.vocabSize);
      await profileStep(be, [{ slot: slots[0], tokens: chunk, logits: [T - 1] }]);
      prof[`prefill${T}`] = await profileStep(be, [
        { slot: slots[0], tokens: chunk, logits: [T - 1] },
      ]);
    }
    out.profileUs = prof;
    slots.forEach((s) => sessions.close(s));
  }
  console.log(JSON.stringify(out));
  sessions.dispose();
  await be.dispose();
}
ctx.destroy();
