// The prefill wkv's recurrence ('scan' in step-program.ts) has two forms:
// - 'serial' (kernels/wkv-scan.wgsl): token after token, the state in registers. Each token is
//   a dependent chain of two 4-lane sums: ~0.7 µs per token and layer on the H100 (2.9B,
//   bench/RESULTS.md), 23 of ~113 ms of a 1024-token chunk.
// - 'chunked' (kernels/wkv-chunk-mats.wgsl, then kernels/wkv-chunk-scan.wgsl): the state-free
//   part of 16-token chunks (decay products, 16×16 matrices, a triangular inverse, and the
//   per-token vectors they fold into) in parallel over all chunks, then per chunk two small
//   products with the state in order. Exact in exact arithmetic; in f32 it matches the serial
//   form to 5e-6..2e-5 of the logits' and state's std on the fixture models
//   (test/webgpu/wkv-chunked.test.ts). On the H100 (bench/RESULTS.md) the two passes take ~10 ms
//   of a 1024-token 2.9B chunk (matrices 3.8, scan 6.1) where the serial scan took 23; bench
//   --wkv-scan compares the two.
import type { RwkvConfig } from '../../model/config.js';
import type { GemmPass } from './gemm-shape.js';
import type { Pipelines } from './pipelines.js';

export type WkvScan = 'serial' | 'chunked';

/** Tokens per chunk (the kernels' L). */
const CHUNK = 16;
/**
 * Value rows per scan workgroup (wkv-chunk-scan's RB: 4 to 64, 16 invocations per row). H100,
 * 2.9B, 1024-token chunk (bench/RESULTS.md, twelfth session): 8 rows 7.8 ms of scan, 16 rows
 * 6.1, 32 rows 6.0, 64 rows 11.5 (40 workgroups for 40 heads). Each workgroup reads the chunk's
 * vectors whole, so fewer rows read them more often; 16 rows need 256 invocations and 24 KB of
 * workgroup memory, within what the chunked form asks of a device anyway.
 */
const SCAN_ROWS = 16;

/**
 * Workgroup memory of the chunked kernels (the larger, wkv-chunk-mats: Γ 16×64, four 16×65
 * tiles, five 16×16 matrices, f32). Devices with less (WebGPU's default limit is 16 KB) take
 * the serial form.
 */
export const CHUNKED_SCAN_WORKGROUP_BYTES = (16 * 64 + 4 * 16 * 65 + 5 * 16 * 16) * 4;

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

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
      pipeline: await P.get('wkv-chunk-scan', 'wkv', { ...defs, SCAN_ROWS, ACT4: true }),
      grid: [seqs, H, config.headSize / SCAN_ROWS],
      suffix: '-chunked',
    },
  ];
}
