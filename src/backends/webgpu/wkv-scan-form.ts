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
 * (RD). The scan is bound by its workgroup-memory reads, per multiprocessor: 16 rows with one
 * row per thread (256 invocations, 4 workgroups a head) is best while every workgroup has a
 * multiprocessor to itself; past that (2.9B's 160 workgroups put two on 28 of the H100's 132),
 * 32 rows with two rows per dot-product thread (256 invocations, 2 a head: each state row and
 * token vector read serves two products) is. H100, 4096-token steps, ms of scan
 * (bench/RESULTS.md, fourteenth session): 2.9B (40 heads) 16 / 1 23.96–23.97, 32 / 2
 * 18.20–18.45, 16 / 2 22.4, 32 / 1 25.9, 32 / 4 25.6–25.8, 16 / 4 24.2, 64 / 4 37.0; 1.5B (32
 * heads, 2048-token steps) 16 / 1 6.24–6.29, 32 / 2 6.94–7.04. WebGPU does not say how many
 * multiprocessors a device has, so the switch sits at the H100's: more than 32 heads.
 */
export function scanShape(nHead: number): { rows: number; dotRows: number } {
  return nHead > 32 ? { rows: 32, dotRows: 2 } : { rows: 16, dotRows: 1 };
}

/** The scan's workgroup memory in bytes (kernels/wkv-chunk-scan.wgsl's tiles, f32). */
function scanWorkgroupBytes(rows: number): number {
  // Four 16 × 68 token tiles, the block's state rows (rows × 68), u and v (16 × rows each).
  return (4 * 16 * 68 + rows * 68 + 2 * 16 * rows) * 4;
}

/**
 * Workgroup memory the chunked form needs, f32: wkv-chunk-mats has Γ 16×64, four 16×65 tiles and
 * five 16×16 matrices (25 664 bytes); wkv-chunk-scan with 32 rows 30 208 (16 rows: 24 576).
 * Devices with less than the larger (WebGPU's default limit is 16 KB) take the serial form.
 */
export const CHUNKED_SCAN_WORKGROUP_BYTES = Math.max(
  (16 * 64 + 4 * 16 * 65 + 5 * 16 * 16) * 4,
  scanWorkgroupBytes(32),
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
  const shape = scanShape(H);
  return [
    {
      pipeline: await P.get('wkv-chunk-mats', 'wkv', defs),
      grid: [seqs, H, Math.ceil(rows / CHUNK)],
      suffix: '-mats',
    },
    {
      pipeline: await P.get('wkv-chunk-scan', 'wkv', {
        ...defs,
        SCAN_ROWS: shape.rows,
        SCAN_DOT_ROWS: shape.dotRows,
        ACT4: true,
      }),
      grid: [seqs, H, config.headSize / shape.rows],
      suffix: '-chunked',
    },
  ];
}
