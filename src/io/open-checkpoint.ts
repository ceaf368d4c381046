// Opens a checkpoint file from disk (Node). Browsers use openCheckpointSource with their own
// ByteSource instead.
import { NodeFileSource } from './node-file-source.js';
import { openCheckpointSource } from './read-checkpoint.js';
import { CheckpointError, type Checkpoint } from './tensor.js';

/**
 * Opens a PyTorch .pth or .safetensors checkpoint, detected by content. Reads only the directory
 * and header; tensor bytes are read when asked for. Call close() when done. Every problem with
 * the file is reported as a CheckpointError naming it.
 */
export async function openCheckpoint(path: string): Promise<Checkpoint> {
  let source: NodeFileSource;
  try {
    source = await NodeFileSource.open(path);
  } catch (err) {
    throw new CheckpointError(
      path,
      `cannot open: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return openCheckpointSource(source, path);
}
