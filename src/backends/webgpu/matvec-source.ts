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
  /**
   * Stage X in workgroup memory, `u` weight vectors per lane and row per chunk (the kernel's
   * STAGED form, for several input rows), K in `splits` parts (> 1: partial sums into the split-K
   * scratch at float offset `scratch`); absent: every thread reads X from global memory.
   */
  staged?: { u: number; splits: number; scratch: number };
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
  const store = (m: number, i: number, v: string) =>
    shape.staged
      ? `put_sum(seg, ${m}u, row0 + ${i}u, ${v}, split);`
      : `put(seg, ${m}u, row0 + ${i}u, ${v});`;
  const accs = range(shape.r).flatMap((i) => range(shape.mr).map((m) => ({ i, m })));
  const out: string[] = [];
  for (let c = 0; c < accs.length; c += CHUNK) {
    const chunk = accs.slice(c, c + CHUNK);
    chunk.forEach(({ i, m }, s) => out.push(`part[${s}u * WG + lid] = a${i}_${m};`));
    out.push(`reduce_part(lane, lid, ${chunk.length}u);`);
    out.push('if (lane == 0u) {');
    chunk.forEach(({ i, m }, s) => {
      out.push(`  if (${m}u < m_count && row0 + ${i}u < seg.n_rows) {`);
      out.push(`    ${store(m, i, `part[${s}u * WG + lid]`)}`);
      out.push('  }');
    });
    out.push('}');
    // The next round overwrites `part`.
    if (c + CHUNK < accs.length) out.push('workgroupBarrier();');
  }
  return out;
}

/**
 * The STAGED form's chunk loop: `xr<s>` hold this thread's share of the next chunk of X (S
 * vec4: the chunk's MR · XV · KCV over 256 threads), `u<j>_<i>` / `n<j>_<i>` the weight vectors
 * of the current and the next chunk (lane + j · LANES of row i).
 */
function stagedParts(shape: MatvecShape, u: number, xv: number): Defines {
  const { lanes, mr, r } = shape;
  const total = mr * xv * lanes * u;
  const S = Math.ceil(total / 256);
  const idx = (s: number) => `lid + ${s}u * WG`;
  const loadX = (s: number, at: string) =>
    `xr${s} = stage_load(seg, last_m, ${at}, k_end, ${idx(s)});`;
  const loadW = (name: string, j: number, i: number, at: string) =>
    `${name}${j}_${i} = wload(wb${i}, ${at} + lane + ${j}u * LANES, k_end);`;
  const pairs = range(u).flatMap((j) => range(r).map((i) => ({ j, i })));
  const compute: string[] = [];
  for (const j of range(u)) {
    compute.push(`let q${j} = lane + ${j}u * LANES;`);
    for (const i of range(r)) compute.push(`let w${j}_${i} = wv(u${j}_${i});`);
    for (const m of range(mr)) {
      compute.push(`let p${j}_${m} = xs_at(${m}u, q${j});`);
      for (const i of range(r)) compute.push(`a${i}_${m} += xdot(w${j}_${i}, p${j}_${m});`);
    }
  }
  return {
    PRELOAD: lines(
      [
        ...range(S).map((s) => 'var ' + loadX(s, 'k_begin')),
        ...pairs.map(({ j, i }) => 'var ' + loadW('u', j, i, 'k_begin')),
        ...pairs.map(({ j, i }) => `var n${j}_${i}: vec4<u32>;`),
      ],
      '  ',
    ),
    STORE: lines(
      range(S).map((s) =>
        (s + 1) * 256 <= total
          ? `xs[stage_slot(${idx(s)})] = xr${s};`
          : `if (${idx(s)} < XS) { xs[stage_slot(${idx(s)})] = xr${s}; }`,
      ),
      '    ',
    ),
    LOAD_NEXT: lines(
      [...range(S).map((s) => loadX(s, 'kn')), ...pairs.map(({ j, i }) => loadW('n', j, i, 'kn'))],
      '    ',
    ),
    COMPUTE: lines(compute, '    '),
    ROTATE: lines(
      pairs.map(({ j, i }) => `u${j}_${i} = n${j}_${i};`),
      '    ',
    ),
  };
}

/** Output rows one workgroup of kernels/matvec.wgsl covers: 256 invocations, `lanes` per row
 *  group, `r` rows per group. */
export function matvecRowsPerWorkgroup(shape: { lanes: number; r: number }): number {
  return (256 / shape.lanes) * shape.r;
}

/** Defines of kernels/matvec.wgsl (besides TO_LOGITS, COPY and C4); `epv`: weights per vec4. */
export function matvecDefines(shape: MatvecShape, epv: number): Defines {
  const { lanes, mr, r, staged } = shape;
  const rows = matvecRowsPerWorkgroup(shape);
  if (256 % lanes || lanes < 4 || rows > 64 || 64 % rows) {
    // A workgroup's rows must tile the 64-row segment padding (matmul-jobs.ts).
    throw new Error(`matvec: ${lanes} lanes × ${r} rows per thread do not tile 64 rows`);
  }
  const u = staged ? staged.u : Math.max(1, Math.floor(LOADS_IN_FLIGHT / r));
  const setup = [
    ...range(r).map((i) => `let wb${i} = seg.w_off + min(row0 + ${i}u, last_row) * seg.k_vec;`),
    ...(staged
      ? []
      : range(mr).map((m) => `let x${m} = seg.x_off + min(${m}u, last_m) * seg.x_stride;`)),
    ...range(r).flatMap((i) => range(mr).map((m) => `var a${i}_${m} = 0.0;`)),
  ];
  return {
    LANES: lanes,
    MR: mr,
    R: r,
    U: u,
    STAGED: !!staged,
    KCV: lanes * u,
    SPLITS: staged?.splits ?? 1,
    SPLIT_K: (staged?.splits ?? 1) > 1,
    SCRATCH: (staged?.scratch ?? 0) / 4,
    SETUP: lines(setup, '  '),
    ...(staged
      ? stagedParts(shape, u, epv / 4)
      : { STEP_U: lines(step(shape, u), '    '), STEP_1: lines(step(shape, 1), '    ') }),
    REDUCE: lines(reduce(shape), '  '),
  };
}
