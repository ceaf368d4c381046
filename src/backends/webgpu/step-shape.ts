// Which variant of the step program a step runs, from its row, sequence and logit-row counts:
// the layer form (single-token GEMVs or multi-row), the wkv path, and whether the last channel
// mix is gathered. step-program.ts builds every variant's dispatches; runner.ts picks by these.
import type { RwkvConfig } from '../../model/config.js';

/**
 * The wkv of a layer has three forms: 'fused' (one kernel; single-token steps of few sequences),
 * the prefill form 'prep' → 'scan' → 'post' (state-free work in parallel over tokens, then the
 * recurrence with the state on chip); wide single-token steps use 'lora-up' (a GEMM) → 'batch'
 * (see WkvPath). A step runs one of these.
 */
export type WkvVariant = 'fused' | 'batch' | 'prep' | 'scan' | 'post';

/**
 * How a step runs the wkv of each layer (one path per step; see chooseWkvPath):
 * - 'fused': one kernel per (sequence, head) doing everything, the LoRA up-projections as dot
 *   products — least work for one or a few sequences;
 * - 'batched': single-token steps of many sequences: the LoRA up-projections as one GEMM over
 *   all rows ('lora-up', tanh/sigmoid of the hidden vectors applied as it reads them), then per
 *   (sequence, head) the elementwise rest and the state update ('batch');
 * - 'prefill': steps where a sequence has several tokens: 'lora-up' (the same GEMM) → 'prep'
 *   (elementwise, per token and head) → 'scan' → 'post'.
 */
export type WkvPath = 'fused' | 'batched' | 'prefill';

export const WKV_PATH: Record<WkvVariant, WkvPath> = {
  fused: 'fused',
  batch: 'batched',
  prep: 'prefill',
  scan: 'prefill',
  post: 'prefill',
};

/**
 * Sequences from which single-token steps take the batched path. Measured on the H100 (2.9B,
 * bench/RESULTS.md): at 1 sequence the batched path's two extra dispatches per layer cost
 * more than the fused kernel's LoRA chain (4.3 vs 2.8 ms profiled per step), at 8 and 16 both
 * gave the same tok/s, at 128 the fused kernel's per-sequence re-reads of each head's LoRA rows
 * took 10.5 ms against 4.8 ms for the batched path.
 */
export const WKV_BATCHED_MIN_SEQS = 16;

/**
 * The wkv path of a step of `rows` tokens from `seqs` sequences. `batchedOk`: every LoRA-up
 * GEMM of the model can run tiled (K a multiple of 32; see matmul-jobs.ts).
 */
export function chooseWkvPath(
  c: RwkvConfig,
  rows: number,
  seqs: number,
  batchedOk: boolean,
): WkvPath {
  // The prefill and batched forms are written for head size 64; other sizes run the fused
  // (generic) kernel, token by token within a sequence.
  if (c.headSize !== 64) return 'fused';
  if (rows > seqs) return 'prefill';
  return seqs >= WKV_BATCHED_MIN_SEQS && batchedOk ? 'batched' : 'fused';
}

/**
 * Steps of one token (one sequence) take the 'single' form of a layer: LayerNorm + token-shift
 * mix folded into the GEMV that consumes them (kernels/matvec-ln.wgsl), 5 dispatches instead
 * of 7. Other steps take the 'multi' form. Dispatches without a form run in both.
 */
export type StepForm = 'single' | 'multi';

/** Which variants of the program's dispatches a step runs (step-program.ts Dispatch). */
export interface StepShape {
  form: StepForm;
  wkvPath: WkvPath;
  /**
   * Some rows want logits but not all (prefill, prompt chunks): the last layer's channel mix
   * runs over those rows only (Dispatch.gather).
   */
  gather: boolean;
}

/** The shape of a step of `rows` tokens from `seqs` sequences, `outRows` of them wanting logits. */
export function stepShape(
  c: RwkvConfig,
  rows: number,
  seqs: number,
  outRows: number,
  batchedOk: boolean,
): StepShape {
  const form = rows === 1 && seqs === 1 ? 'single' : 'multi';
  return {
    form,
    wkvPath: chooseWkvPath(c, rows, seqs, batchedOk),
    gather: form === 'multi' && outRows < rows,
  };
}
