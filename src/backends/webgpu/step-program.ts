// The fixed list of dispatches of one forward step (embedding, every layer, head) with their
// parameter blocks. Built once per model; only the row counts change between steps.
import type { RwkvConfig } from '../../model/config.js';
import type { ActLayout } from './act-layout.js';
import {
  buildMatmulDispatches,
  OP_ADD,
  OP_RELU_SQ,
  OP_STORE,
  X_AS_IS,
  X_SIGMOID,
  X_TANH,
  type MatmulDispatch,
  type MatmulTerm,
} from './matmul-jobs.js';
import { l2Prefetch, PREFETCH_MAGIC } from './l2-prefetch.js';
import { WKV_PATH, type StepForm, type WkvPath, type WkvVariant } from './step-shape.js';
import { elementsPerVec, GLOBAL_VECTORS, paramOffset, type WeightPlan } from './weight-layout.js';

/** Where the step's metadata lives in the `rows` buffer (vec4<u32> units). */
export interface MetaLayout {
  rows: number;
  seqs: number;
  outRows: number;
  total: number;
}

export function metaLayout(maxRows: number): MetaLayout {
  return { rows: 0, seqs: maxRows, outRows: 2 * maxRows, total: 3 * maxRows };
}

/**
 * gather: the dispatch runs only in steps that want logits from some of their rows but not all
 * (true: prefill), or only in the others (false); absent: in both. In the former the last
 * layer's channel mix runs over the wanted rows alone: nothing else reads its output (the state
 * keeps the shift, LN2 of the input, which the ln-mix before it writes), so over a 4096-token
 * prompt it skipped 4095 rows of ffn.key and ffn.value.
 */
export type Dispatch = {
  label: string;
  form?: StepForm;
  wkvPath?: WkvPath;
  gather?: boolean;
} & (
  | { kind: 'embed'; arena: number; params: Uint32Array }
  /** partials: the split-K residual GEMM just before, whose sum this kernel adds (decode). */
  | { kind: 'lnMix'; layer: number; params: Uint32Array; partials?: MatmulDispatch }
  | { kind: 'wkv'; variant: WkvVariant; layer: number; params: Uint32Array }
  /** copy: gather the wanted rows without the LayerNorm (kernels/ln-rows.wgsl COPY). */
  | { kind: 'lnRows'; params: Uint32Array; copy?: boolean }
  /**
   * deferReduce: in decode steps the next ln-mix adds the split-K partials. outRows: over the
   * step's wanted rows, packed (M = the logit rows; the terms' mSel is 1), not all its rows.
   */
  | {
      kind: 'matmul';
      job: MatmulDispatch;
      logits: boolean;
      deferReduce?: boolean;
      outRows?: boolean;
    }
  /** ln: build the input from LN + mix (else: copy the scratch plane into the shift) */
  | { kind: 'lnMatvec'; layer: number; job: MatmulDispatch; params: Uint32Array; ln: boolean }
);

export function buildStepProgram(
  c: RwkvConfig,
  plan: WeightPlan,
  act: ActLayout,
  meta: MetaLayout,
): Dispatch[] {
  const C = c.nEmbd;
  const H = c.nHead;
  const N = c.headSize;
  const epv = elementsPerVec(plan.format);
  const out: Dispatch[] = [];
  const u32 = (...v: number[]) => Uint32Array.from(v);
  type MatmulWhere = Pick<Dispatch, 'form' | 'wkvPath' | 'gather'> & {
    logits?: boolean;
    outRows?: boolean;
  };
  const matmul = (label: string, terms: MatmulTerm[], where: MatmulWhere = {}) => {
    for (const job of buildMatmulDispatches(terms, epv)) {
      out.push({ label, kind: 'matmul', job, ...where, logits: where.logits ?? false });
    }
  };
  // The single-token form; `glue` is the LnParams block of kernels/matvec-ln.wgsl.
  const lnMatvec = (
    label: string,
    layer: number,
    terms: MatmulTerm[],
    ln: boolean,
    glue: number[],
  ) => {
    for (const job of buildMatmulDispatches(terms, epv)) {
      out.push({ label, form: 'single', kind: 'lnMatvec', layer, job, params: u32(...glue), ln });
    }
  };

  for (const part of plan.emb.parts) {
    out.push({
      label: 'embed',
      kind: 'embed',
      arena: part.arena,
      params: u32(
        act.x,
        C,
        part.firstRow,
        part.rows,
        part.vecOffset,
        plan.emb.kVec,
        GLOBAL_VECTORS.ln0w * C,
        GLOBAL_VECTORS.ln0b * C,
      ),
    });
  }

  // The residual GEMM (att.output, ffn.value) just pushed, if it is one dispatch: the next
  // ln-mix takes over its split-K reduce in decode steps (the last ffn.value keeps its own).
  let residual: (Dispatch & { kind: 'matmul' }) | undefined;
  const lastMatmul = (n: number) => {
    const tail = out.slice(n);
    return tail.length === 1 && tail[0].kind === 'matmul' ? tail[0] : undefined;
  };
  const takeResidual = (): MatmulDispatch | undefined => {
    const d = residual;
    residual = undefined;
    if (d) d.deferReduce = true;
    return d?.job;
  };
  const slotStride = 2 * C + H * N * N;
  for (let l = 0; l < c.nLayer; l++) {
    const L = plan.layers[l];
    const po = (v: Parameters<typeof paramOffset>[2]) => paramOffset(c, l, v);
    const mixPlane = (i: number) => act.mix + i * act.plane; // r w k v a g
    // Time mix: LN1 + six mixes (shift at the start of the slot).
    out.push({
      label: 'ln-mix',
      form: 'multi',
      kind: 'lnMix',
      layer: l,
      partials: takeResidual(),
      params: u32(
        act.x,
        act.mix,
        act.plane,
        6,
        po('ln1.weight'),
        po('ln1.bias'),
        po('att.x_r'),
        0,
        slotStride,
        C,
        0,
        0,
      ),
    });
    const hid = (o: number): Pick<MatmulTerm, 'yOff' | 'yStride'> => ({
      yOff: act.hid + o,
      yStride: act.hidStride,
    });
    const row = (plane: number) => ({ xOff: plane, xStride: C });
    const terms: MatmulTerm[] = [
      { m: L.wr, ...row(mixPlane(0)), yOff: act.rkv, yStride: C, op: OP_STORE, mSel: 0 },
      {
        m: L.wk,
        ...row(mixPlane(2)),
        yOff: act.rkv + act.plane,
        yStride: C,
        op: OP_STORE,
        mSel: 0,
      },
      {
        m: L.wv,
        ...row(mixPlane(3)),
        yOff: act.rkv + 2 * act.plane,
        yStride: C,
        op: OP_STORE,
        mSel: 0,
      },
      { m: L.w1, ...row(mixPlane(1)), ...hid(act.hidW), op: OP_STORE, mSel: 0 },
      { m: L.a1, ...row(mixPlane(4)), ...hid(act.hidA), op: OP_STORE, mSel: 0 },
      { m: L.g1, ...row(mixPlane(5)), ...hid(act.hidG), op: OP_STORE, mSel: 0 },
    ];
    if (L.v1) terms.push({ m: L.v1, ...row(mixPlane(3)), ...hid(act.hidV), op: OP_STORE, mSel: 0 });
    matmul('proj', terms, { form: 'multi' });
    // Single form: plane 0 of `mix` is the scratch for LN1(x) until `out` saves it as the shift.
    const attGlue = [act.x, po('ln1.weight'), po('ln1.bias'), 0, slotStride, act.mix, 0, 0];
    // Each term's input plane tells its mix vector (planes and μ both in r w k v a g order).
    const lnTerms = terms.map((t) => ({
      ...t,
      mix: po('att.x_r') + ((t.xOff - act.mix) / act.plane) * C,
    }));
    lnMatvec('proj', l, lnTerms, true, attGlue);

    const up = [L.w2, L.a2, L.v2, L.g2];
    const upVec = up.map((m) => m?.kVec ?? 0);
    const upOff = up.map((m) => m?.parts[0].vecOffset ?? 0);
    const hidAt = [act.hidW, act.hidA, act.hidV, act.hidG];
    const wkvParams = u32(
      C,
      l === 0 ? 1 : 0,
      act.rkv,
      act.rkv + act.plane,
      act.rkv + 2 * act.plane,
      act.vFirst,
      act.y,
      act.hid,
      act.hidStride,
      c.lora.decay,
      c.lora.iclr,
      l === 0 ? 0 : c.lora.valueResidual,
      c.lora.gate,
      act.hidW,
      act.hidA,
      act.hidV,
      act.hidG,
      ...upOff,
      ...upVec,
      po('att.w0'),
      po('att.a0'),
      po('att.v0'),
      po('att.k_k'),
      po('att.k_a'),
      po('att.r_k'),
      po('att.ln_x.weight'),
      po('att.ln_x.bias'),
      C,
      slotStride,
      meta.seqs,
      act.mix,
      act.plane,
      act.bonus,
      H,
      ...l2Prefetch(plan, l),
      act.scratch,
      PREFETCH_MAGIC,
      act.wkvChunkVecs,
    );
    const wkv = (variant: WkvVariant) =>
      out.push({
        label: `wkv-${variant}`,
        wkvPath: WKV_PATH[variant],
        kind: 'wkv',
        variant,
        layer: l,
        params: wkvParams,
      });
    // Batched and prefill paths: LoRA up-projections of all rows into planes 0–3 of `mix` (free
    // once the projections have read it; wkv-batch / wkv-prep read them there as P.planes), tanh of the decay and
    // sigmoid of the gate hidden vectors applied by the GEMM as it reads them.
    const upAct = [X_TANH, X_AS_IS, X_AS_IS, X_SIGMOID];
    const upTerms: MatmulTerm[] = [];
    up.forEach((m, i) => {
      if (!m || (i === 2 && l === 0)) return; // layer 0 has no value residual
      const x = { xOff: act.hid + hidAt[i], xStride: act.hidStride };
      upTerms.push({
        m,
        ...x,
        yOff: mixPlane(i),
        yStride: C,
        op: OP_STORE,
        mSel: 0,
        xAct: upAct[i],
      });
    });
    matmul('lora-up', upTerms, { wkvPath: 'batched' });
    matmul('lora-up', upTerms, { wkvPath: 'prefill' });
    wkv('batch');
    for (const variant of ['fused', 'prep', 'scan', 'post'] as const) wkv(variant);
    const outTerms = [
      { m: L.wo, ...row(act.y), yOff: act.x, yStride: C, op: OP_ADD, mSel: 0 as const },
    ];
    const outAt = out.length;
    matmul('out', outTerms, { form: 'multi' });
    residual = lastMatmul(outAt);
    lnMatvec('out', l, outTerms, false, attGlue);

    // Channel mix: LN2 + one mix (shift at the end of the slot).
    out.push({
      label: 'ln-mix',
      form: 'multi',
      kind: 'lnMix',
      layer: l,
      partials: takeResidual(),
      params: u32(
        act.x,
        act.ffnIn,
        act.plane,
        1,
        po('ln2.weight'),
        po('ln2.bias'),
        po('ffn.x_k'),
        C + H * N * N,
        slotStride,
        C,
        0,
        0,
      ),
    });
    const keyTerms: MatmulTerm[] = [
      {
        m: L.ffnKey,
        ...row(act.ffnIn),
        yOff: act.ffnHid,
        yStride: c.ffnDim,
        op: OP_RELU_SQ,
        mSel: 0,
      },
    ];
    const valueTerms: MatmulTerm[] = [
      {
        m: L.ffnValue,
        xOff: act.ffnHid,
        xStride: c.ffnDim,
        yOff: act.x,
        yStride: C,
        op: OP_ADD,
        mSel: 0,
      },
    ];
    const last = l === c.nLayer - 1;
    // The last layer's channel mix over all rows only where every row wants logits (decode);
    // else over the wanted rows, gathered (see Dispatch.gather).
    const allRows: MatmulWhere = last ? { form: 'multi', gather: false } : { form: 'multi' };
    matmul('ffn-key', keyTerms, allRows);
    const valueAt = out.length;
    matmul('ffn-value', valueTerms, allRows);
    residual = lastMatmul(valueAt);
    if (last) {
      // ffnIn of the wanted rows → `normed` (free until ln-out), relu(key)² → ffnHid, the
      // value → `y` (read last by att.output): ln-out adds it to x as it packs the rows.
      out.push({
        label: 'ffn-gather',
        form: 'multi',
        gather: true,
        kind: 'lnRows',
        copy: true,
        params: u32(act.ffnIn, act.normed, C, meta.outRows, 0, 0, 0, 0),
      });
      const wanted = { form: 'multi', gather: true, outRows: true } as const;
      matmul('ffn-key', [{ ...keyTerms[0], xOff: act.normed, mSel: 1 }], wanted);
      matmul('ffn-value', [{ ...valueTerms[0], yOff: act.y, op: OP_STORE, mSel: 1 }], wanted);
    }
    // Single form: `ffnIn` is the scratch for LN2(x) until `ffn-value` saves it as the shift.
    const ffnGlue = [
      act.x,
      po('ln2.weight'),
      po('ln2.bias'),
      C + H * N * N,
      slotStride,
      act.ffnIn,
      0,
      0,
    ];
    lnMatvec(
      'ffn-key',
      l,
      keyTerms.map((t) => ({ ...t, mix: po('ffn.x_k') })),
      true,
      ffnGlue,
    );
    lnMatvec('ffn-value', l, valueTerms, false, ffnGlue);
  }

  const lnOut = (gather: boolean) =>
    out.push({
      label: 'ln-out',
      gather,
      kind: 'lnRows',
      params: u32(
        act.x,
        act.normed,
        C,
        meta.outRows,
        GLOBAL_VECTORS.lnOutW * C,
        GLOBAL_VECTORS.lnOutB * C,
        act.y,
        gather ? 1 : 0, // the gathered rows' channel-mix output, added to x first
      ),
    });
  lnOut(false);
  lnOut(true);
  matmul(
    'head',
    [
      {
        m: plan.head,
        xOff: act.normed,
        xStride: C,
        yOff: 0,
        yStride: c.vocabSize,
        op: OP_STORE,
        mSel: 1,
      },
    ],
    { logits: true },
  );
  return out;
}
