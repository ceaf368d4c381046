// Writes out the unrolled parts of kernels/matmul-sgm.wgsl for a tile shape: named accumulators
// acc<i>_<j> (subgroup matrices), the fragment loads and products of one 16-deep k step, and
// the epilogue that emits each accumulator through the subgroup's f32 tile.
import type { Defines } from './shader-source.js';

/**
 * SG_M × SG_N subgroups of 32 lanes, each owning FM × FN accumulators of 16×16; K steps of BK
 * (16, 32, 64 or 128) through `stages` (1 or 2) workgroup-memory buffers.
 */
export interface SgmTile {
  sgM: number;
  sgN: number;
  fm: number;
  fn: number;
  bk: 16 | 32 | 64 | 128;
  stages: 1 | 2;
}

export const sgmTileRows = (t: SgmTile) => t.sgM * t.fm * 16;
export const sgmTileCols = (t: SgmTile) => t.sgN * t.fn * 16;
export const sgmThreads = (t: SgmTile) => t.sgM * t.sgN * 32;

/** Lanes per subgroup the kernel is written for (its subgroup count is threads / 32). */
export const SGM_LANES = 32;

/** Workgroup memory of a shape: its f16 stages (rows of BK + 8) and an f32 tile per subgroup. */
export function sgmTileBytes(t: SgmTile, xSplit: boolean): number {
  const xParts = xSplit ? 2 : 1;
  const stages = t.stages * (xParts * sgmTileRows(t) + sgmTileCols(t)) * (t.bk + 8) * 2;
  return stages + t.sgM * t.sgN * 256 * 4;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * The subgroup-matrix operations as written into the kernel: the builtins, or (emulated, for
 * tests on devices without them) the functions of kernels/sgm-emulate.wgsl.
 */
interface SgmOps {
  acc: string;
  left: (off: string) => string;
  right: (off: string) => string;
  mma: (l: string, r: string, acc: string) => string;
  store: (acc: string) => string;
}

const NATIVE: SgmOps = {
  acc: 'subgroup_matrix_result<f32, 16, 16>()',
  left: (off) =>
    `subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>, row_major>(&xs, ${off}, LDS)`,
  right: (off) =>
    `subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>, col_major>(&ws, ${off}, LDS)`,
  mma: (l, r, acc) => `subgroupMatrixMultiplyAccumulate(${l}, ${r}, ${acc})`,
  store: (acc) => `subgroupMatrixStore<row_major>(&cs, cb, ${acc}, 16u)`,
};

const EMULATED: SgmOps = {
  acc: 'SgmAcc()',
  left: (off) => `${off}`,
  right: (off) => `${off}`,
  mma: (l, r, acc) => `sgm_mma(${l}, ${r}, lane, ${acc})`,
  store: (acc) => `sgm_store(cb, lane, ${acc})`,
};

function accDecl(t: SgmTile, ops: SgmOps): string {
  const out: string[] = [];
  for (const i of range(t.fm))
    for (const j of range(t.fn)) out.push(`  var acc${i}_${j} = ${ops.acc};`);
  return out.join('\n');
}

function mma(t: SgmTile, xSplit: boolean, ops: SgmOps): string {
  const pad = '        ';
  const out: string[] = [];
  for (const i of range(t.fm)) {
    const off = `xb + ${i * 16}u * LDS + kk`;
    out.push(`let l${i} = ${ops.left(off)};`);
    if (xSplit) out.push(`let e${i} = ${ops.left(`${off} + XTILE`)};`);
  }
  for (const j of range(t.fn)) {
    out.push(`let r${j} = ${ops.right(`wb + ${j * 16}u * LDS + kk`)};`);
  }
  for (const i of range(t.fm)) {
    for (const j of range(t.fn)) {
      const a = `acc${i}_${j}`;
      // The small (lo) part first: it is added while the sum is still small.
      if (xSplit) out.push(`${a} = ${ops.mma(`e${i}`, `r${j}`, a)};`);
      out.push(`${a} = ${ops.mma(`l${i}`, `r${j}`, a)};`);
    }
  }
  return out.map((l) => pad + l).join('\n');
}

function emit(t: SgmTile, ops: SgmOps): string {
  const out: string[] = [];
  for (const i of range(t.fm)) {
    for (const j of range(t.fn)) {
      out.push(`${ops.store(`acc${i}_${j}`)};`);
      out.push('workgroupBarrier();');
      out.push(`emit_lane(o, m_sg + ${i * 16}u, n_sg + ${j * 16}u, q);`);
      out.push('workgroupBarrier();');
    }
  }
  return out.map((l) => '  ' + l).join('\n');
}

/**
 * Defines of kernels/matmul-sgm.wgsl (beside SCRATCH, TO_LOGITS, X_ACT and the weight format).
 * `emulated`: the subgroup-matrix builtins replaced by plain WGSL (kernels/sgm-emulate.wgsl) —
 * for tests on devices without them; needs only shader-f16.
 */
export function sgmDefines(t: SgmTile, xSplit: boolean, emulated = false): Defines {
  const ops = emulated ? EMULATED : NATIVE;
  return {
    SGM_EMULATED: emulated,
    SG_M: t.sgM,
    SG_N: t.sgN,
    FM: t.fm,
    FN: t.fn,
    BK: t.bk,
    STAGES: t.stages,
    DOUBLE: t.stages === 2,
    XPARTS: xSplit ? 2 : 1,
    X_SPLIT: xSplit,
    ACC_DECL: accDecl(t, ops),
    MMA: mma(t, xSplit, ops),
    EMIT: emit(t, ops),
  };
}
