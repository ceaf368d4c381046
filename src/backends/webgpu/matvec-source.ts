// Writes out the unrolled parts of kernels/matvec.wgsl for R output rows × MR input rows per
// thread: named accumulators a<r>_<m> and the loads feeding them (arrays indexed in loops went
// to local memory in the tiled kernel on NVIDIA; see bench/RESULTS.md, small-batch decode).
import type { Defines } from './shader-source.js';

export interface MatvecShape {
  /** Threads per output row (a power of two, 4..32). */
  lanes: number;
  /** Input rows (M) the pipeline serves; the step may use fewer. */
  mr: number;
  /** Output rows per thread. */
  r: number;
}

/** 16-byte weight loads each thread keeps in flight per loop iteration. */
const LOADS_IN_FLIGHT = 4;
/** Accumulators per round of the workgroup reduction (CHUNK in the kernel). */
const CHUNK = 8;

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const lines = (xs: string[], indent: string) => xs.map((x) => indent + x).join('\n');

/** `u` steps of kv (each `LANES` apart) for every owned row and input row. */
function step(shape: MatvecShape, u: number): string[] {
  const { mr, r } = shape;
  const out: string[] = [];
  for (const j of range(u)) {
    out.push(`let k${j} = kv + ${j}u * LANES;`);
    for (const i of range(r)) out.push(`let u${j}_${i} = wts[wb${i} + k${j}];`);
  }
  for (const j of range(u)) {
    for (const i of range(r)) out.push(`let w${j}_${i} = wv(u${j}_${i});`);
    for (const m of range(mr)) {
      out.push(`let p${j}_${m} = xv(x${m}, k${j}, seg.x_act);`);
      for (const i of range(r)) out.push(`a${i}_${m} += xdot(w${j}_${i}, p${j}_${m});`);
    }
  }
  return out;
}

/** Sums over each row's lanes, CHUNK accumulators at a time, and stores the valid ones. */
function reduce(shape: MatvecShape): string[] {
  const accs = range(shape.r).flatMap((i) => range(shape.mr).map((m) => ({ i, m })));
  const out: string[] = [];
  for (let c = 0; c < accs.length; c += CHUNK) {
    const chunk = accs.slice(c, c + CHUNK);
    chunk.forEach(({ i, m }, s) => out.push(`part[${s}u * WG + lid] = a${i}_${m};`));
    out.push(`reduce_part(lane, lid, ${chunk.length}u);`);
    out.push('if (lane == 0u) {');
    chunk.forEach(({ i, m }, s) => {
      out.push(`  if (${m}u < m_count && row0 + ${i}u < seg.n_rows) {`);
      out.push(`    put(seg, ${m}u, row0 + ${i}u, part[${s}u * WG + lid]);`);
      out.push('  }');
    });
    out.push('}');
    // The next round overwrites `part`.
    if (c + CHUNK < accs.length) out.push('workgroupBarrier();');
  }
  return out;
}

/** Defines of kernels/matvec.wgsl (besides TO_LOGITS, COPY and C4). */
export function matvecDefines(shape: MatvecShape): Defines {
  const { lanes, mr, r } = shape;
  if (256 % lanes || lanes < 4 || (256 / lanes) * r > 64 || 64 % ((256 / lanes) * r)) {
    // A workgroup's rows must tile the 64-row segment padding (matmul-jobs.ts).
    throw new Error(`matvec: ${lanes} lanes × ${r} rows per thread do not tile 64 rows`);
  }
  const u = Math.max(1, Math.floor(LOADS_IN_FLIGHT / r));
  const setup = [
    ...range(r).map((i) => `let wb${i} = seg.w_off + min(row0 + ${i}u, last_row) * seg.k_vec;`),
    ...range(mr).map((m) => `let x${m} = seg.x_off + min(${m}u, last_m) * seg.x_stride;`),
    ...range(r).flatMap((i) => range(mr).map((m) => `var a${i}_${m} = 0.0;`)),
  ];
  return {
    LANES: lanes,
    MR: mr,
    R: r,
    U: u,
    SETUP: lines(setup, '  '),
    STEP_U: lines(step(shape, u), '    '),
    STEP_1: lines(step(shape, 1), '    '),
    REDUCE: lines(reduce(shape), '  '),
  };
}
