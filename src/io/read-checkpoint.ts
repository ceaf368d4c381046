// Format detection by content and the Checkpoint object over any ByteSource (file or memory).
import { ByteRangeError, type ByteSource } from './byte-source.js';
import { readPthTensors } from './pth-reader.js';
import { looksLikeSafetensors } from './safetensors-format.js';
import { readSafetensorsTensors } from './safetensors-read.js';
import { CheckpointError, type Checkpoint, type TensorEntry } from './tensor.js';
import { looksLikeZip } from './zip.js';

export const SUPPORTED_FORMATS =
  'supported formats are PyTorch .pth (zip archive written by torch.save) and .safetensors';

export type CheckpointFormat = Checkpoint['format'];

/** Which reader `head` (at least the first 9 bytes of the file) calls for. */
export function detectFormat(file: string, head: Uint8Array): CheckpointFormat {
  if (looksLikeZip(head)) return 'pth';
  if (looksLikeSafetensors(head)) return 'safetensors';
  if (head[0] === 0x80 && head[1] === 0x02) {
    // torch.save before 1.6 (or with _use_new_zipfile_serialization=False) writes raw pickles.
    throw new CheckpointError(
      file,
      `this is the legacy (pre-1.6) torch.save format, which is not supported; re-save it with a current torch.save or as .safetensors (${SUPPORTED_FORMATS})`,
    );
  }
  throw new CheckpointError(file, `not a recognised checkpoint; ${SUPPORTED_FORMATS}`);
}

/**
 * Opens a checkpoint from a ByteSource. `file` names it in errors. The source is closed by
 * `close()`, or right away if opening fails.
 */
export async function openCheckpointSource(source: ByteSource, file: string): Promise<Checkpoint> {
  try {
    if (source.size < 9) {
      throw new CheckpointError(file, `file is only ${source.size} bytes; ${SUPPORTED_FORMATS}`);
    }
    const format = detectFormat(file, await source.read(0, 9));
    const tensors =
      format === 'pth'
        ? await readPthTensors(file, source)
        : await readSafetensorsTensors(file, source);
    return new SourceCheckpoint(file, format, tensors, source);
  } catch (err) {
    await source.close().catch(() => undefined);
    throw asCheckpointError(file, err);
  }
}

function asCheckpointError(file: string, err: unknown): unknown {
  if (err instanceof CheckpointError) return err;
  if (err instanceof ByteRangeError)
    return new CheckpointError(file, `file is truncated: ${err.message}`);
  if (err instanceof Error) return new CheckpointError(file, err.message);
  return err;
}

class SourceCheckpoint implements Checkpoint {
  constructor(
    readonly path: string,
    readonly format: CheckpointFormat,
    readonly tensors: ReadonlyMap<string, TensorEntry>,
    private readonly source: ByteSource,
  ) {}

  close(): Promise<void> {
    return this.source.close();
  }
}
