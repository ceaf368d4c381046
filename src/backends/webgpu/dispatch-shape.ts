// Which pipeline and how many workgroups each dispatch of a step uses, given the step's rows.
import type { RwkvConfig } from '../../model/config.js';
import type { Pipelines } from './pipelines.js';
import type { Dispatch } from './step-program.js';

/** Largest M served by the matvec kernel (a weight read once feeds up to MR rows). */
export const MATVEC_MAX_ROWS = 8;
const MATVEC_LANES = 32;

export async function dispatchPipeline(
  P: Pipelines,
  config: RwkvConfig,
  hmax: number,
  d: Dispatch,
  rows: number,
  logitRows: number,
): Promise<GPUComputePipeline> {
  switch (d.kind) {
    case 'embed':
      return P.get('embed', 'embed');
    case 'lnMix':
      return P.get('ln-mix', 'lnMix', { PER: Math.ceil(config.nEmbd / 4 / 256) });
    case 'lnRows':
      return P.get('ln-rows', 'lnRows');
    case 'wkv': {
      const defs = { N: config.headSize, HMAX: hmax };
      if (d.variant !== 'fused') return P.get(`wkv-${d.variant}`, 'wkv', defs);
      // Head size 64 has the vectorised single-token kernel; others the generic one.
      return P.get(config.headSize === 64 ? 'wkv-decode' : 'wkv', 'wkv', defs);
    }
    case 'lnMatvec':
      return P.get('matvec-ln', 'matmulLn', {
        LANES: MATVEC_LANES,
        C4: config.nEmbd / 4,
        PER: Math.ceil(config.nEmbd / 4 / 256),
        LN: d.ln,
        COPY: !d.ln,
        TO_LOGITS: false,
      });
    case 'matmul': {
      const m = d.logits ? logitRows : rows;
      const layout = d.logits ? 'matmulLogits' : 'matmul';
      if (m <= MATVEC_MAX_ROWS || !d.job.tileableK) {
        const mr = 2 ** Math.ceil(Math.log2(Math.max(1, m)));
        if (mr > MATVEC_MAX_ROWS)
          throw new Error(`matmul with K not a multiple of 32 needs ≤ ${MATVEC_MAX_ROWS} rows`);
        return P.get('matvec', layout, { LANES: MATVEC_LANES, MR: mr, TO_LOGITS: d.logits });
      }
      return P.get('matmul-tiled', layout, { TO_LOGITS: d.logits });
    }
  }
}

export function dispatchGrid(
  config: RwkvConfig,
  d: Dispatch,
  rows: number,
  seqs: number,
  logitRows: number,
): [number, number, number] {
  const H = config.nHead;
  switch (d.kind) {
    case 'embed':
      return [rows, 1, 1];
    case 'lnMix':
      return [rows, Math.ceil(config.nEmbd / 4 / 256), 1];
    case 'lnRows':
      return [logitRows, 1, 1];
    case 'wkv':
      if (d.variant === 'fused') return [seqs, H, 1];
      if (d.variant === 'scan') return [seqs, H, config.headSize / 16];
      return [rows, H, 1];
    case 'lnMatvec':
      return [d.job.paddedRows / (256 / MATVEC_LANES), 1, 1];
    case 'matmul': {
      const m = d.logits ? logitRows : rows;
      if (m <= MATVEC_MAX_ROWS || !d.job.tileableK) {
        return [d.job.paddedRows / (256 / MATVEC_LANES), 1, 1];
      }
      return [d.job.paddedRows / 64, Math.ceil(m / 64), 1];
    }
  }
}
