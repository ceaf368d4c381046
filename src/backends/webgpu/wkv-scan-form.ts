// The prefill wkv's recurrence ('scan' in step-program.ts) has two forms:
// - 'serial' (kernels/wkv-scan.wgsl): token after token, the state in registers. Each token is
//   a dependent chain of two 4-lane sums: ~0.7 µs per token and layer on the H100 (2.9B,
//   bench/RESULTS.md), 23 of ~113 ms of a 1024-token chunk.
// - 'chunked' (kernels/wkv-chunk-mats.wgsl, then kernels/wkv-chunk-scan.wgsl): the state-free
//   part of 16-token chunks (decay products, 16×16 matrices, a triangular inverse, and the
//   per-token vectors they fold into) in parallel over all chunks, then per chunk two small
//   products with the state in order. Exact in exact arithmetic; in f32 it matches the serial
//   form to 5e-6..2e-5 of the logits' and state's std on the fixture models
//   (test/webgpu/wkv-chunked.test.ts). On the H100 (bench/RESULTS.md) the two passes take ~8 ms
//   per 1024 tokens of 2.9B (matrices 3.4, scan 4.6) where the serial scan took 23; bench
//   --wkv-scan compares the two.
import type { RwkvConfig } from '../../model/config.js';
import type { GemmPass } from './gemm-shape.js';
import type { Pipelines } from './pipelines.js';

export type WkvScan = 'serial' | 'chunked';

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

/** Tokens per chunk (the kernels' L). */
const CHUNK = 16;
/**
 * Value rows per scan workgroup (wkv-chunk-scan's RB) and rows per thread in its dot products
 * (RD): 32 and 2, i.e. 80 workgroups of 256 invocations at 40 heads. The scan is bound by its
 * workgroup-memory reads: at 16 rows and one row per thread, 160 workgroups put two on 28 of the
 * H100's 132 multiprocessors, whose shared load unit then set the pace, and 32 rows with one row
 * per thread (512 invocations) read as much per multiprocessor. Reading each state row and token
 * vector once for two rows' products cuts those reads by a third. H100, 2.9B, f16 GEMM input,
 * 4096-token step (bench/RESULTS.md, fourteenth session), ms of scan: RB 16 / RD 1 23.96–23.97,
 * 32 / 2 18.20–18.45, 16 / 2 22.4, 32 / 1 25.9, 32 / 4 25.6–25.8, 16 / 4 24.2, 64 / 4 37.0.
 */
const SCAN_ROWS = 32;
const SCAN_DOT_ROWS = 2;

/**
 * Workgroup memory of the chunked kernels, f32: wkv-chunk-mats has Γ 16×64, four 16×65 tiles and
 * five 16×16 matrices (25 664 bytes); wkv-chunk-scan four 16×68 token tiles, the block's state
 * rows (SCAN_ROWS×68) and u, v (16×SCAN_ROWS each): 30 208 bytes at 32 rows. Devices with less
 * than the larger (WebGPU's default limit is 16 KB) take the serial form.
 */
export const CHUNKED_SCAN_WORKGROUP_BYTES = Math.max(
  (16 * 64 + 4 * 16 * 65 + 5 * 16 * 16) * 4,
  (4 * 16 * 68 + SCAN_ROWS * 68 + 2 * 16 * SCAN_ROWS) * 4,
);

/**
 * The scan form a runner uses: `requested` (an option), else RWKV_WEBGPU_WKV_SCAN in Node, else
 * 'chunked' where the device has the workgroup memory. Throws if 'chunked' is asked for and
 * the device cannot run it, or the value is unknown.
 */
export function chooseWkvScan(
  requested: WkvScan | 'auto' | undefined,
  maxWorkgroupStorage: number,
): WkvScan {
  const env = isNode ? process.env.RWKV_WEBGPU_WKV_SCAN : undefined;
  const want = requested ?? (env === undefined || env === '' ? 'auto' : env);
  const fits = maxWorkgroupStorage >= CHUNKED_SCAN_WORKGROUP_BYTES;
  if (want === 'auto') return fits ? 'chunked' : 'serial';
  if (want === 'serial') return 'serial';
  if (want === 'chunked') {
    if (!fits) {
      throw new Error(
        `the chunked wkv scan needs ${CHUNKED_SCAN_WORKGROUP_BYTES} bytes of workgroup memory; ` +
          `this device allows ${maxWorkgroupStorage} (use 'serial' or 'auto')`,
      );
    }
    return 'chunked';
  }
  throw new Error(`unknown wkv scan form '${want}' (expected auto, serial or chunked)`);
}

/**
 * The chunked scan's two passes for a step of `rows` tokens from `seqs` sequences: matrices
 * per (sequence, head, chunk) — the grid covers the longest sequence the step could hold,
 * workgroups past a sequence's end return — then the scan per (sequence, head, row block).
 */
export async function chunkedScanPasses(
  P: Pipelines,
  config: RwkvConfig,
  hmax: number,
  rows: number,
  seqs: number,
): Promise<GemmPass[]> {
  if (config.headSize !== 64) {
    throw new Error(`the chunked wkv scan is written for head size 64 (got ${config.headSize})`);
  }
  const defs = { N: config.headSize, HMAX: hmax, POOL4: false, ACT4: false };
  const H = config.nHead;
  return [
    {
      pipeline: await P.get('wkv-chunk-mats', 'wkv', defs),
      grid: [seqs, H, Math.ceil(rows / CHUNK)],
      suffix: '-mats',
    },
    {
      pipeline: await P.get('wkv-chunk-scan', 'wkv', {
        ...defs,
        SCAN_ROWS,
        SCAN_DOT_ROWS,
        ACT4: true,
      }),
      grid: [seqs, H, config.headSize / SCAN_ROWS],
      suffix: '-chunked',
    },
  ];
}
