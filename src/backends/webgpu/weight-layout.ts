// Where every matrix of the model lives on the GPU. Matrices are packed into a few large
// "arena" buffers, each no larger than one storage binding may be, so that a kernel reaches a
// whole group of matrices (e.g. the seven projections of a layer) through one binding. A
// matrix larger than a binding is split by rows into parts placed in separate arenas.
import type { RwkvConfig } from '../../model/config.js';

/** How matrix elements are stored: as in the checkpoint (16-bit) or f32 for mixed files. */
export type WeightFormat = 'bf16' | 'f16' | 'f32';

/** Elements per 16-byte vec4<u32> load. */
export function elementsPerVec(f: WeightFormat): number {
  return f === 'f32' ? 4 : 8;
}

export interface MatrixPart {
  arena: number;
  /** vec4<u32> index of the part's first row in its arena. */
  vecOffset: number;
  firstRow: number;
  rows: number;
}

export interface MatrixSpec {
  /** Checkpoint tensor name. */
  name: string;
  /** Stored [in, out] in the checkpoint (LoRA factors): transposed on upload to [out, in]. */
  transpose: boolean;
  /** Rows and columns after the optional transpose (rows = outputs, cols = K). */
  rows: number;
  cols: number;
}

export interface PlacedMatrix extends MatrixSpec {
  /** vec4<u32> per row (cols padded with zeros to a whole vec4). */
  kVec: number;
  parts: MatrixPart[];
}

export interface LayerMatrices {
  /** One dispatch: receptance, key, value and the LoRA down-projections. */
  wr: PlacedMatrix;
  wk: PlacedMatrix;
  wv: PlacedMatrix;
  w1: PlacedMatrix;
  a1: PlacedMatrix;
  v1?: PlacedMatrix;
  g1: PlacedMatrix;
  /** LoRA up-projections, read per channel by the wkv kernel ([C][rank]). */
  w2: PlacedMatrix;
  a2: PlacedMatrix;
  v2?: PlacedMatrix;
  g2: PlacedMatrix;
  wo: PlacedMatrix;
  ffnKey: PlacedMatrix;
  ffnValue: PlacedMatrix;
}

export interface WeightPlan {
  format: WeightFormat;
  /** Bytes used in each arena. */
  arenaBytes: number[];
  emb: PlacedMatrix;
  head: PlacedMatrix;
  layers: LayerMatrices[];
  /** Every placed matrix, in upload order. */
  all: PlacedMatrix[];
}

function spec(name: string, rows: number, cols: number, transpose = false): MatrixSpec {
  return { name, transpose, rows, cols };
}

export function planWeights(c: RwkvConfig, format: WeightFormat, arenaCap: number): WeightPlan {
  const epv = elementsPerVec(format);
  const C = c.nEmbd;
  const arenaBytes: number[] = [];
  const all: PlacedMatrix[] = [];
  const place = (s: MatrixSpec, arena: number, rowsFrom = 0, rowCount = s.rows) => {
    const kVec = Math.ceil(s.cols / epv);
    const vecOffset = arenaBytes[arena] / 16;
    arenaBytes[arena] += rowCount * kVec * 16;
    return { arena, vecOffset, firstRow: rowsFrom, rows: rowCount };
  };
  const sizeOf = (s: MatrixSpec) => s.rows * Math.ceil(s.cols / epv) * 16;
  const newArena = () => arenaBytes.push(0) - 1;
  /** Places a group of matrices in one arena when it fits, else one by one (split if needed). */
  const group = (specs: MatrixSpec[]): PlacedMatrix[] => {
    const total = specs.reduce((n, s) => n + sizeOf(s), 0);
    const placed: PlacedMatrix[] = [];
    if (total <= arenaCap) {
      let a = arenaBytes.length - 1;
      if (a < 0 || arenaBytes[a] + total > arenaCap) a = newArena();
      for (const s of specs) {
        placed.push({ ...s, kVec: Math.ceil(s.cols / epv), parts: [place(s, a)] });
      }
    } else {
      for (const s of specs) {
        const kVec = Math.ceil(s.cols / epv);
        const rowBytes = kVec * 16;
        if (rowBytes > arenaCap) {
          throw new Error(
            `WebGPU: one row of ${s.name} (${rowBytes} bytes) exceeds the storage binding limit (${arenaCap} bytes)`,
          );
        }
        const parts: MatrixPart[] = [];
        let r = 0;
        while (r < s.rows) {
          let a = arenaBytes.length - 1;
          if (a < 0 || arenaBytes[a] + rowBytes > arenaCap) a = newArena();
          const fit = Math.min(s.rows - r, Math.floor((arenaCap - arenaBytes[a]) / rowBytes));
          parts.push(place(s, a, r, fit));
          r += fit;
        }
        placed.push({ ...s, kVec, parts });
      }
    }
    all.push(...placed);
    return placed;
  };

  const [emb] = group([spec('emb.weight', c.vocabSize, C)]);
  const layers: LayerMatrices[] = [];
  for (let l = 0; l < c.nLayer; l++) {
    const p = `blocks.${l}.`;
    const hasV = l > 0;
    const proj = group([
      spec(p + 'att.receptance.weight', C, C),
      spec(p + 'att.key.weight', C, C),
      spec(p + 'att.value.weight', C, C),
      spec(p + 'att.w1', c.lora.decay, C, true),
      spec(p + 'att.a1', c.lora.iclr, C, true),
      ...(hasV ? [spec(p + 'att.v1', c.lora.valueResidual, C, true)] : []),
      spec(p + 'att.g1', c.lora.gate, C, true),
    ]);
    const up = group([
      spec(p + 'att.w2', C, c.lora.decay, true),
      spec(p + 'att.a2', C, c.lora.iclr, true),
      ...(hasV ? [spec(p + 'att.v2', C, c.lora.valueResidual, true)] : []),
      spec(p + 'att.g2', C, c.lora.gate, true),
    ]);
    if (up.some((m) => m.parts.length !== 1) || new Set(up.map((m) => m.parts[0].arena)).size > 1) {
      throw new Error(
        'WebGPU: the LoRA up-projections of one layer must fit in one storage binding',
      );
    }
    const [wo] = group([spec(p + 'att.output.weight', C, C)]);
    const [ffnKey] = group([spec(p + 'ffn.key.weight', c.ffnDim, C)]);
    const [ffnValue] = group([spec(p + 'ffn.value.weight', C, c.ffnDim)]);
    const [wr, wk, wv, w1, a1] = proj;
    layers.push({
      wr,
      wk,
      wv,
      w1,
      a1,
      v1: hasV ? proj[5] : undefined,
      g1: proj[hasV ? 6 : 5],
      w2: up[0],
      a2: up[1],
      v2: hasV ? up[2] : undefined,
      g2: up[hasV ? 3 : 2],
      wo,
      ffnKey,
      ffnValue,
    });
  }
  const [head] = group([spec('head.weight', c.vocabSize, C)]);
  return { format, arenaBytes, emb, head, layers, all };
}

/** Vectors kept as f32, in this order within each layer's block of the params buffer. */
export const LAYER_VECTORS = [
  'ln1.weight',
  'ln1.bias',
  'ln2.weight',
  'ln2.bias',
  'att.x_r',
  'att.x_w',
  'att.x_k',
  'att.x_v',
  'att.x_a',
  'att.x_g',
  'att.w0',
  'att.a0',
  'att.v0',
  'att.k_k',
  'att.k_a',
  'att.r_k',
  'att.ln_x.weight',
  'att.ln_x.bias',
  'ffn.x_k',
] as const;

export type LayerVector = (typeof LAYER_VECTORS)[number];

/** Global vectors first (ln0, ln_out), then one block of LAYER_VECTORS per layer. */
export function paramOffset(c: RwkvConfig, layer: number, v: LayerVector): number {
  return 4 * c.nEmbd + (layer * LAYER_VECTORS.length + LAYER_VECTORS.indexOf(v)) * c.nEmbd;
}

export const GLOBAL_VECTORS = {
  ln0w: 0,
  ln0b: 1,
  lnOutW: 2,
  lnOutB: 3,
} as const;

export function paramFloats(c: RwkvConfig): number {
  return 4 * c.nEmbd + c.nLayer * LAYER_VECTORS.length * c.nEmbd;
}
