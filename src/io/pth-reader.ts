// PyTorch zip checkpoints (torch.save since 1.6): `<prefix>/data.pkl` holds the state dict as a
// pickle whose tensors point at storages stored as `<prefix>/data/<key>` entries. The prefix is
// the archive's top folder, whatever its name ("archive", "model", ...). Opening reads the zip
// directory and the pickle; tensor bytes are read from their entries on demand.
import type { ByteSource } from './byte-source.js';
import { PickleError } from './pickle.js';
import { gatherView, isRowMajor, viewSpan } from './strided-view.js';
import { CheckpointError, DTYPE_BYTES, type TensorEntry } from './tensor.js';
import { makeTensorEntry } from './tensor-entry.js';
import { readTorchStateDict, type TensorRecord } from './torch-pickle.js';
import { readZipDirectory, ZipFormatError, type ZipDirectory, type ZipEntry } from './zip.js';
import { inflateEntry, ZIP_DEFLATED, ZIP_STORED } from './zip-inflate.js';

/**
 * A state-dict pickle costs about 100 bytes per tensor (the fixtures: 6.5 KB for 69 tensors), so
 * even thousands of tensors stay far below this; a larger data.pkl is not a state dict.
 */
const MAX_PICKLE_BYTES = 256 << 20;

/** Turns zip/pickle format errors into CheckpointErrors naming the file. */
async function named<T>(file: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof ZipFormatError)
      throw new CheckpointError(file, `damaged zip archive: ${err.message}`);
    if (err instanceof PickleError) throw new CheckpointError(file, err.message);
    throw err;
  }
}

class PthArchive {
  constructor(
    readonly file: string,
    private readonly source: ByteSource,
    private readonly zip: ZipDirectory,
  ) {}

  /** Refuses entries we cannot read: encrypted, or compressed other than by deflate. */
  checkReadable(entry: ZipEntry, what: string): void {
    if (entry.encrypted)
      throw new CheckpointError(this.file, `${what} (${entry.name}) is encrypted`);
    if (entry.method === ZIP_STORED && entry.compressedSize !== entry.size) {
      throw new CheckpointError(
        this.file,
        `${what} (${entry.name}) is stored with ${entry.compressedSize} bytes for ${entry.size}`,
      );
    }
    if (entry.method !== ZIP_STORED && entry.method !== ZIP_DEFLATED) {
      throw new CheckpointError(
        this.file,
        `${what} (${entry.name}) uses zip compression method ${entry.method}; only stored (0) and deflate (8) are supported`,
      );
    }
  }

  /**
   * Bytes [offset, offset+length) of an entry's data: read in place when stored; a deflated
   * entry is inflated whole (zip-inflate.ts) and sliced. Not kept: a storage is normally read
   * once (one tensor), and holding every inflated storage would double a model's host memory.
   * `into`: as ByteSource.read (stored entries only).
   */
  read(
    entry: ZipEntry,
    what: string,
    offset = 0,
    length = entry.size,
    into?: Uint8Array,
  ): Promise<Uint8Array> {
    this.checkReadable(entry, what);
    return named(this.file, async () => {
      const start = await this.zip.dataOffset(entry);
      if (entry.method === ZIP_STORED) return this.source.read(start + offset, length, into);
      const whole = await inflateEntry(entry, await this.source.read(start, entry.compressedSize));
      return whole.subarray(offset, offset + length);
    });
  }
}

export async function readPthTensors(
  file: string,
  source: ByteSource,
): Promise<Map<string, TensorEntry>> {
  const zip = await named(file, () => readZipDirectory(source));
  const archive = new PthArchive(file, source, zip);
  const byName = new Map(zip.entries.map((e) => [e.name, e]));
  const pickles = zip.entries.filter((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  if (pickles.length !== 1) {
    throw new CheckpointError(
      file,
      pickles.length === 0
        ? 'zip archive has no <folder>/data.pkl, so it is not a PyTorch checkpoint'
        : `zip archive holds ${pickles.length} data.pkl files (${pickles.map((e) => e.name).join(', ')})`,
    );
  }
  const pickle = pickles[0];
  const prefix = pickle.name.slice(0, -'data.pkl'.length);

  // Written by torch >= 2.1; older archives are little-endian implicitly.
  const byteorder = byName.get(`${prefix}byteorder`);
  if (byteorder) {
    const order = new TextDecoder().decode(await archive.read(byteorder, 'byteorder')).trim();
    if (order !== 'little') {
      throw new CheckpointError(
        file,
        `byteorder is '${order}'; only little-endian checkpoints are supported`,
      );
    }
  }

  if (pickle.size > MAX_PICKLE_BYTES) {
    throw new CheckpointError(file, `data.pkl is ${pickle.size} bytes, too large for a state dict`);
  }
  const pickleBytes = await archive.read(pickle, 'data.pkl');
  const records = await named(file, async () => readTorchStateDict(pickleBytes));

  const tensors = new Map<string, TensorEntry>();
  for (const [name, rec] of records) {
    const entry = byName.get(`${prefix}data/${rec.storage.key}`);
    tensors.set(name, tensorFromRecord(archive, name, rec, entry));
  }
  return tensors;
}

function tensorFromRecord(
  archive: PthArchive,
  name: string,
  rec: TensorRecord,
  entry: ZipEntry | undefined,
): TensorEntry {
  const { file } = archive;
  const { storage, shape, stride, offset } = rec;
  const where = `tensor ${name}`;
  const dtype = storage.type.dtype;
  if (dtype === null) {
    throw new CheckpointError(
      file,
      `${where} has dtype ${storage.type.dtypeName} (${storage.type.torchName}); supported dtypes are bf16, fp16, fp32`,
    );
  }
  if (!entry) {
    throw new CheckpointError(
      file,
      `${where}: its storage data/${storage.key} is missing from the archive`,
    );
  }
  archive.checkReadable(entry, where);
  const es = DTYPE_BYTES[dtype];
  const { start, end } = viewSpan(shape, stride, offset);
  const available = Math.min(storage.numel, Math.floor(entry.size / es));
  if (end > available) {
    throw new CheckpointError(
      file,
      `${where} (shape [${shape.join(', ')}], ${dtype}) needs ${end} elements of storage data/${storage.key}, which holds ${available} (${entry.size} bytes; ${storage.numel} declared)`,
    );
  }
  const contiguous = isRowMajor(shape, stride);
  return makeTensorEntry(file, name, dtype, shape, async (into) => {
    if (end === start) return new Uint8Array(0);
    // Only the elements the view touches are read, so views of a shared storage stay cheap.
    // A strided view is gathered into a new array, so only a contiguous one reads into `into`.
    const span = await archive.read(
      entry,
      where,
      start * es,
      (end - start) * es,
      contiguous ? into : undefined,
    );
    return contiguous ? span : gatherView(span, shape, stride, es);
  });
}
