// Reads a safetensors file's header and exposes its tensors lazily (format: safetensors-format.ts).
import type { ByteSource } from './byte-source.js';
import {
  dtypeFromSafetensors,
  MAX_SAFETENSORS_HEADER,
  METADATA_KEY,
  SAFETENSORS_DTYPES,
} from './safetensors-format.js';
import { CheckpointError, DTYPE_BYTES, type DType, type TensorEntry } from './tensor.js';
import { makeTensorEntry, shapeNumel } from './tensor-entry.js';

interface HeaderTensor {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
  /** Position in the JSON header, to keep header order among equal offsets (empty tensors). */
  order: number;
}

export async function readSafetensorsTensors(
  file: string,
  source: ByteSource,
): Promise<Map<string, TensorEntry>> {
  if (source.size < 8) throw new CheckpointError(file, `file is only ${source.size} bytes`);
  const lenBytes = await source.read(0, 8);
  const headerLength = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(MAX_SAFETENSORS_HEADER, source.size - 8))) {
    throw new CheckpointError(
      file,
      `safetensors header claims ${headerLength} bytes but the file has ${source.size - 8} after the length (truncated?)`,
    );
  }
  const headerBytes = await source.read(8, Number(headerLength));
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (err) {
    throw new CheckpointError(
      file,
      `safetensors header is not valid JSON: ${(err as Error).message}`,
    );
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new CheckpointError(file, 'safetensors header is not a JSON object');
  }
  const dataStart = 8 + Number(headerLength);
  const dataSize = source.size - dataStart;
  const parsed = Object.entries(header)
    .filter(([name]) => name !== METADATA_KEY)
    .map(([name, info], order) => parseTensor(file, name, info, order, dataSize));

  // File order = data order (JSON key order is not reliable in JS: integer-like keys move first).
  parsed.sort((a, b) => a.begin - b.begin || a.order - b.order);
  let previousEnd = 0;
  let previousName = '';
  for (const t of parsed) {
    if (t.begin < previousEnd) {
      throw new CheckpointError(
        file,
        `tensors ${previousName} and ${t.name} overlap in the data buffer`,
      );
    }
    previousEnd = t.end;
    previousName = t.name;
  }

  const tensors = new Map<string, TensorEntry>();
  for (const t of parsed) {
    tensors.set(
      t.name,
      makeTensorEntry(file, t.name, t.dtype, t.shape, (into) =>
        source.read(dataStart + t.begin, t.end - t.begin, into),
      ),
    );
  }
  return tensors;
}

function parseTensor(
  file: string,
  name: string,
  info: unknown,
  order: number,
  dataSize: number,
): HeaderTensor {
  const bad = (problem: string): CheckpointError =>
    new CheckpointError(file, `tensor ${name}: ${problem}`);
  if (typeof info !== 'object' || info === null) throw bad('header entry is not an object');
  const { dtype: dtypeName, shape, data_offsets: offsets } = info as Record<string, unknown>;
  if (typeof dtypeName !== 'string') throw bad('header entry has no dtype');
  const dtype = dtypeFromSafetensors(dtypeName);
  if (!dtype) {
    throw bad(
      `dtype ${dtypeName} is not supported (supported: ${Object.values(SAFETENSORS_DTYPES).join(', ')})`,
    );
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw bad(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((x) => Number.isSafeInteger(x) && x >= 0) ||
    offsets[0] > offsets[1]
  ) {
    throw bad(`data_offsets ${JSON.stringify(offsets)} are not [begin, end]`);
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataSize) {
    throw bad(
      `data ends at byte ${end} of the data buffer, which has only ${dataSize} bytes (truncated?)`,
    );
  }
  const expected = shapeNumel(file, name, shape) * DTYPE_BYTES[dtype];
  if (end - begin !== expected) {
    throw bad(
      `holds ${end - begin} bytes but shape [${shape.join(', ')}] of ${dtypeName} needs ${expected}`,
    );
  }
  return { name, dtype, shape, begin, end, order };
}
