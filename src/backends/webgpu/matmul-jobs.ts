// Turns "these matrices × these activation regions" into matmul dispatches: one per weight
// arena touched, each with a segment table (see kernels/matmul-common.wgsl).
import type { PlacedMatrix } from './weight-layout.js';

export const SEG_U32 = 12;
/** Segments are laid end to end in rows rounded up to this (the largest tile height). */
export const SEG_ROW_ALIGN = 64;

export const OP_STORE = 0;
export const OP_ADD = 1;
export const OP_RELU_SQ = 2;

/** Activations the tiled kernel can apply to X as it reads it (MatmulTerm.xAct). */
export const X_AS_IS = 0;
export const X_TANH = 1;
export const X_SIGMOID = 2;

export interface MatmulTerm {
  m: PlacedMatrix;
  /** float offsets/strides in the activation buffer (or logits buffer for y of the head) */
  xOff: number;
  xStride: number;
  yOff: number;
  yStride: number;
  op: number;
  /** 0: M = the step's rows; 1: M = the step's logit rows */
  mSel: 0 | 1;
  /** matvec-ln only: params offset of the mix vector μ applied to the normalised input */
  mix?: number;
  /**
   * matmul-tiled only: X_TANH / X_SIGMOID applied to each X element as it is read (the batched
   * wkv's LoRA up-projections take tanh / sigmoid of their hidden vectors this way).
   */
  xAct?: number;
}

export interface MatmulDispatch {
  arena: number;
  /** The segment table, SEG_U32 words per segment. */
  table: Uint32Array;
  /** Sum of the segments' rows, each rounded up to SEG_ROW_ALIGN. */
  paddedRows: number;
  /** Whether every K is a multiple of 32 (what the tiled kernel needs). */
  tileableK: boolean;
}

export function buildMatmulDispatches(terms: MatmulTerm[], epv: number): MatmulDispatch[] {
  const byArena = new Map<number, number[][]>();
  for (const t of terms) {
    for (const part of t.m.parts) {
      if (t.xOff % 4 || t.xStride % 4) throw new Error('matmul input must be vec4-aligned');
      const seg = [
        0, // row_start, filled below
        part.rows,
        t.m.kVec,
        part.vecOffset,
        t.xOff / 4,
        t.xStride / 4,
        t.yOff + part.firstRow,
        t.yStride,
        t.op,
        t.mSel,
        t.mix ?? 0,
        t.xAct ?? X_AS_IS,
      ];
      const list = byArena.get(part.arena) ?? [];
      list.push(seg);
      byArena.set(part.arena, list);
    }
  }
  const out: MatmulDispatch[] = [];
  for (const [arena, segs] of byArena) {
    let row = 0;
    let tileableK = true;
    for (const s of segs) {
      s[0] = row;
      row += Math.ceil(s[1] / SEG_ROW_ALIGN) * SEG_ROW_ALIGN;
      if ((s[2] * epv) % 32 !== 0) tileableK = false;
    }
    out.push({ arena, table: Uint32Array.from(segs.flat()), paddedRows: row, tileableK });
  }
  return out;
}
