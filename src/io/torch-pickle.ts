// What a torch state-dict pickle may ask for, and nothing more: the allowlisted globals, the
// ('storage', type, key, location, numel) persistent ids of torch's zip format, and the shape of
// the result (a dict of tensor name → tensor record). Reference: torch/serialization.py (_save,
// _load) and torch/_utils.py (_rebuild_tensor_v2, _rebuild_parameter).
import {
  describeValue,
  PickleDict,
  PickleError,
  unpickle,
  type PickleCallable,
  type PickleHooks,
  type PickleObject,
  type PickleValue,
} from './pickle.js';
import type { DType } from './tensor.js';

/** torch.<Name>Storage class → our dtype, or the torch dtype name for ones we refuse. */
const STORAGE_TYPES: Record<string, DType | string> = {
  BFloat16Storage: 'bf16',
  HalfStorage: 'f16',
  FloatStorage: 'f32',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
  ComplexFloatStorage: 'complex64',
  ComplexDoubleStorage: 'complex128',
};
const SUPPORTED: ReadonlySet<string> = new Set<DType>(['bf16', 'f16', 'f32']);

export interface StorageType extends PickleObject {
  readonly kind: 'storage-type';
  readonly torchName: string;
  /** Our dtype, or null when unsupported (then `dtypeName` says what it is). */
  readonly dtype: DType | null;
  readonly dtypeName: string;
}

export interface StorageRecord extends PickleObject {
  readonly kind: 'storage';
  readonly type: StorageType;
  /** Archive entry `<prefix>/data/<key>`. */
  readonly key: string;
  /** Element count of the whole storage. */
  readonly numel: number;
}

export interface TensorRecord extends PickleObject {
  readonly kind: 'tensor';
  readonly storage: StorageRecord;
  readonly offset: number;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
}

const isObject = <K extends string>(v: PickleValue, kind: K): v is PickleObject & { kind: K } =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && (v as PickleObject).kind === kind;

function count(v: PickleValue, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new PickleError(`${what} is not a non-negative integer (got ${describeValue(v)})`);
  }
  return v;
}

function counts(v: PickleValue, what: string): number[] {
  if (!Array.isArray(v)) throw new PickleError(`${what} is not a tuple (got ${describeValue(v)})`);
  return v.map((x, i) => count(x, `${what}[${i}]`));
}

function callable(qualifiedName: string, call: PickleCallable['call']): PickleCallable {
  return { kind: 'callable', qualifiedName, call };
}

/** _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, hooks[, metadata]) */
const rebuildTensor = callable('torch._utils._rebuild_tensor_v2', (args): TensorRecord => {
  if (args.length < 4) throw new PickleError('_rebuild_tensor_v2 called with too few arguments');
  const storage = args[0];
  if (!isObject(storage, 'storage')) {
    throw new PickleError(
      `_rebuild_tensor_v2 got a ${describeValue(storage)} instead of a storage`,
    );
  }
  const shape = counts(args[2], 'tensor size');
  const stride = counts(args[3], 'tensor stride');
  if (stride.length !== shape.length) {
    throw new PickleError(`tensor size has ${shape.length} dims but stride has ${stride.length}`);
  }
  const offset = count(args[1], 'storage offset');
  return { kind: 'tensor', storage: storage as StorageRecord, offset, shape, stride };
});

/** _rebuild_parameter(data, requires_grad, hooks): an nn.Parameter is just its tensor here. */
const rebuildParameter = callable('torch._utils._rebuild_parameter', (args) => {
  if (!isObject(args[0] ?? null, 'tensor'))
    throw new PickleError('_rebuild_parameter without a tensor');
  return args[0];
});

/** OrderedDict() or OrderedDict([(k, v), ...]) */
const orderedDict = callable('collections.OrderedDict', (args) => {
  const d = new PickleDict();
  const items = args[0] ?? [];
  if (!Array.isArray(items)) throw new PickleError('OrderedDict argument is not a list of pairs');
  for (const pair of items) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string') {
      throw new PickleError('OrderedDict argument is not a list of (str, value) pairs');
    }
    d.set(pair[0], pair[1]);
  }
  return d;
});

const hooks: PickleHooks = {
  findGlobal(module, name) {
    const full = `${module}.${name}`;
    if (full === rebuildTensor.qualifiedName) return rebuildTensor;
    if (full === rebuildParameter.qualifiedName) return rebuildParameter;
    if (full === orderedDict.qualifiedName) return orderedDict;
    if (module === 'torch' && name in STORAGE_TYPES) {
      const mapped = STORAGE_TYPES[name];
      const dtype = SUPPORTED.has(mapped) ? (mapped as DType) : null;
      const type: StorageType = { kind: 'storage-type', torchName: full, dtype, dtypeName: mapped };
      return type;
    }
    throw new PickleError(`pickle asks for global ${full}; only tensor state dicts are supported`);
  },
  persistentLoad(pid) {
    if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length !== 5) {
      throw new PickleError(
        `unsupported persistent id (expected ('storage', type, key, location, numel))`,
      );
    }
    const [, type, key, , numel] = pid;
    if (!isObject(type, 'storage-type')) {
      throw new PickleError(
        `persistent id names a ${describeValue(type)} instead of a storage type`,
      );
    }
    if (typeof key !== 'string') throw new PickleError('persistent id storage key is not a string');
    const record: StorageRecord = {
      kind: 'storage',
      type: type as StorageType,
      key,
      numel: count(numel, `storage ${key} size`),
    };
    return record;
  },
};

/** Parses data.pkl into tensor records, in the dict's own order. Throws PickleError. */
export function readTorchStateDict(pickle: Uint8Array): Map<string, TensorRecord> {
  const root = unpickle(pickle, hooks);
  if (!(root instanceof PickleDict)) {
    throw new PickleError(`the pickle holds a ${describeValue(root)}, not a state dict`);
  }
  const tensors = new Map<string, TensorRecord>();
  for (const [name, value] of root) {
    if (typeof name !== 'string')
      throw new PickleError(`state dict key ${String(name)} is not a string`);
    if (!isObject(value, 'tensor')) {
      throw new PickleError(
        `state dict entry ${name} is a ${describeValue(value)}, not a tensor; only flat tensor state dicts are supported`,
      );
    }
    tensors.set(name, value as TensorRecord);
  }
  return tensors;
}
