// What the single-token wkv kernel (kernels/wkv-decode.wgsl) reads ahead into L2 while its
// latency chain leaves DRAM idle: the weights of the GEMVs that follow it in the layer.
import type { WeightPlan } from './weight-layout.js';

/**
 * Bytes read ahead per layer: att.output of the 2.9B model (13.1 MB) almost whole. Measured on
 * the H100 (2.9B, bench/RESULTS.md): with 13 MB `out` took 2.7 µs less per layer and the wkv
 * kernel 1.4 µs more; 25 MB and 40 MB (into ffn.key) slowed the wkv chain more than they sped
 * up the GEMVs.
 */
const PREFETCH_BYTES = 13e6;
/**
 * Extra workgroups of the wkv dispatch that do the reading. 40 beat 92 and 184 on the H100:
 * more readers slowed the wkv chain itself (its loads queue behind theirs).
 */
export const PREFETCH_WORKGROUPS = 40;

/**
 * Compared with the xor of the prefetched weights (a value no compiler can know), so that the
 * loads stay; a match only writes split-K scratch that single-token steps never read.
 */
export const PREFETCH_MAGIC = 0x9e3779b9;

/**
 * [vec4 offset, vec4 count] in the arena the wkv dispatch binds (that of the layer's LoRA
 * up-projections): att.output, then ffn.key while they lie in that arena end to end, up to
 * PREFETCH_BYTES; [0, 0] when att.output is elsewhere.
 */
export function l2Prefetch(plan: WeightPlan, layer: number): [number, number] {
  const L = plan.layers[layer];
  const arena = L.w2.parts[0].arena;
  const budget = Math.floor(PREFETCH_BYTES / 16);
  let start = -1;
  let end = -1;
  for (const m of [L.wo, L.ffnKey]) {
    for (const part of m.parts) {
      if (part.arena !== arena || (end >= 0 && part.vecOffset !== end)) {
        return start < 0 ? [0, 0] : [start, Math.min(end - start, budget)];
      }
      if (start < 0) start = part.vecOffset;
      end = part.vecOffset + part.rows * m.kVec;
    }
  }
  return start < 0 ? [0, 0] : [start, Math.min(end - start, budget)];
}
