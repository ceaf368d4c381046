// Test-only builder of torch.save-style checkpoints: a state-dict pickle (same opcode sequence
// torch emits, see the fixture's data.pkl) inside a stored zip in the torch 1.x or 2.x layout.
import { PickleWriter } from './pickle-writer.js';
import { layoutZip, type ZipInput, type ZipLayout, type ZipOptions } from './zip-writer.js';

export const STORAGE_ELEMENT_BYTES: Record<string, number> = {
  BFloat16Storage: 2,
  HalfStorage: 2,
  FloatStorage: 4,
  DoubleStorage: 8,
  LongStorage: 8,
};

export interface TestStorage {
  key: string;
  /** torch class name, e.g. 'BFloat16Storage'. */
  type: string;
  bytes: Uint8Array;
}

export interface TestTensor {
  name: string;
  storage: TestStorage;
  offset?: number;
  shape: number[];
  /** Defaults to row-major. */
  stride?: number[];
  /** Storage size written into the pickle; defaults to the storage's real element count. */
  declaredNumel?: number;
}

export function rowMajorStride(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

function writeIntTuple(w: PickleWriter, xs: number[]): void {
  if (xs.length === 0) w.emptyTuple();
  else if (xs.length <= 3) {
    for (const x of xs) w.int(x);
    w.tupleN(xs.length as 1 | 2 | 3);
  } else {
    w.mark();
    for (const x of xs) w.int(x);
    w.tuple();
  }
  w.put();
}

export interface PickleOptions {
  /** 'ordered': an OrderedDict with a `_metadata` attribute, as model.state_dict() returns. */
  root?: 'dict' | 'ordered';
  /** Wrap each tensor in torch._utils._rebuild_parameter, as saving nn.Parameters does. */
  parameters?: boolean;
}

/** The data.pkl torch.save writes for a state dict of these tensors. */
export function stateDictPickle(tensors: TestTensor[], opts: PickleOptions = {}): Uint8Array {
  const w = new PickleWriter().proto(2);
  const memo = new Map<string, number>();
  const cached = (key: string, emit: () => void): void => {
    const slot = memo.get(key);
    if (slot !== undefined) w.get(slot);
    else {
      emit();
      memo.set(key, w.put());
    }
  };
  const orderedDict = () => cached('OrderedDict', () => w.global('collections', 'OrderedDict'));
  if (opts.root === 'ordered') {
    orderedDict();
    w.emptyTuple().reduce();
  } else w.emptyDict();
  w.put();
  w.mark();
  for (const t of tensors) {
    w.str(t.name).put();
    if (opts.parameters) {
      cached('parameter', () => w.global('torch._utils', '_rebuild_parameter'));
      w.mark();
    }
    cached('rebuild', () => w.global('torch._utils', '_rebuild_tensor_v2'));
    w.mark().mark();
    cached('s:storage', () => w.str('storage'));
    cached(`g:${t.storage.type}`, () => w.global('torch', t.storage.type));
    w.str(t.storage.key).put();
    cached('s:cpu', () => w.str('cpu'));
    const elementBytes = STORAGE_ELEMENT_BYTES[t.storage.type] ?? 1;
    w.int(t.declaredNumel ?? t.storage.bytes.length / elementBytes);
    w.tuple().put();
    w.binpersid();
    w.int(t.offset ?? 0);
    writeIntTuple(w, t.shape);
    writeIntTuple(w, t.stride ?? rowMajorStride(t.shape));
    w.bool(false);
    orderedDict();
    w.emptyTuple().reduce().put();
    w.tuple().put();
    w.reduce().put();
    if (opts.parameters) {
      w.bool(false);
      orderedDict();
      w.emptyTuple().reduce().put();
      w.tuple().reduce().put();
    }
  }
  w.setitems();
  if (opts.root === 'ordered') {
    // state = {'_metadata': OrderedDict([('', {'version': 1})])}, applied by BUILD.
    w.emptyDict().put();
    w.str('_metadata').put();
    orderedDict();
    w.emptyTuple().reduce().put();
    w.str('').emptyDict();
    w.put();
    w.str('version').int(1).setitem();
    w.setitem();
    w.setitem();
    w.build();
  }
  return w.stop().bytes();
}

export interface TorchZipOptions extends ZipOptions {
  /** torch1: data.pkl, data/*, version. torch2 adds .format_version, byteorder, serialization_id. */
  style?: 'torch1' | 'torch2';
  /** The archive's top folder (torch uses the file's stem or "archive"). */
  folder?: string;
  /** Overrides the byteorder entry's text (torch2 style writes 'little'). */
  byteorder?: string;
  /** Replaces data.pkl. */
  pickle?: Uint8Array;
  /** Storages left out of the archive. */
  omitStorages?: string[];
  /** Storages stored deflated. */
  deflateStorages?: string[];
  root?: PickleOptions['root'];
  parameters?: boolean;
  /** Zero bytes before the first storage entry (sparse-file zip64 tests). */
  holeBeforeStorages?: number;
}

/** The storages of `tensors`, each once, in first-use order. */
function storagesOf(tensors: TestTensor[]): TestStorage[] {
  return [...new Set(tensors.map((t) => t.storage))];
}

export function torchZip(tensors: TestTensor[], opts: TorchZipOptions = {}): ZipLayout {
  const folder = opts.folder ?? 'archive';
  const style = opts.style ?? 'torch2';
  const text = (s: string) => new TextEncoder().encode(s);
  const entries: ZipInput[] = [
    { name: `${folder}/data.pkl`, data: opts.pickle ?? stateDictPickle(tensors, opts) },
  ];
  if (style === 'torch2') {
    entries.push({ name: `${folder}/.format_version`, data: text('1') });
    entries.push({ name: `${folder}/byteorder`, data: text(opts.byteorder ?? 'little') });
  } else if (opts.byteorder !== undefined) {
    entries.push({ name: `${folder}/byteorder`, data: text(opts.byteorder) });
  }
  let first = true;
  for (const s of storagesOf(tensors)) {
    if (opts.omitStorages?.includes(s.key)) continue;
    entries.push({
      name: `${folder}/data/${s.key}`,
      data: s.bytes,
      deflate: opts.deflateStorages?.includes(s.key),
      holeBefore: first ? opts.holeBeforeStorages : undefined,
    });
    first = false;
  }
  entries.push({ name: `${folder}/version`, data: text('3\n') });
  if (style === 'torch2') {
    entries.push({ name: `${folder}/.data/serialization_id`, data: text('1234567890123456789') });
  }
  return layoutZip(entries, { dataDescriptor: true, align: 64, ...opts });
}
