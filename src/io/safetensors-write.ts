// Writes a safetensors file tensor by tensor (no whole-file buffer), for synthetic models/tests.
import { open, type FileHandle } from 'node:fs/promises';
import { safetensorsHeader, type TensorToWrite } from './safetensors-encode.js';

export type { TensorToWrite } from './safetensors-encode.js';

export async function writeSafetensors(
  path: string,
  tensors: readonly TensorToWrite[],
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  const header = safetensorsHeader(tensors, metadata); // validates every tensor before writing
  const handle = await open(path, 'w');
  try {
    await writeAll(handle, header);
    for (const t of tensors) await writeAll(handle, t.data);
  } finally {
    await handle.close();
  }
}

/** FileHandle.write may write less than asked; loop until all of `bytes` is out. */
async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done);
    done += bytesWritten;
  }
}
