// The library in a browser (bundled by scripts/build-browser.mjs): the same engine, WebGPU
// through navigator.gpu, models and vocabularies from Blobs or bytes instead of file paths.
// Everything that needs a file system (paths, worker threads) stays in the Node entry, index.ts.
import { WebGpuBackend, type WebGpuOptions } from './backends/webgpu/backend.js';
import { BlobByteSource } from './io/blob-byte-source.js';
import { MemoryByteSource, type ByteSource } from './io/byte-source.js';
import { openCheckpointSource } from './io/read-checkpoint.js';
import { describeModel } from './model/model-file.js';
import { WorldTokenizer } from './tokenizer/world.js';
import { parseWorldVocab } from './tokenizer/world-vocab.js';

export { BackendUnusableError, type Backend } from './backends/backend.js';
export { WebGpuBackend, type WebGpuOptions } from './backends/webgpu/backend.js';
export {
  createGpuContext,
  GpuDeviceLostError,
  NoGpuAdapterError,
  type DeviceOptions,
} from './backends/webgpu/device.js';
export { BlobByteSource } from './io/blob-byte-source.js';
export { MemoryByteSource, type ByteSource } from './io/byte-source.js';
export { CheckpointError } from './io/tensor.js';
export { Session, type FeedOptions, type SessionMeta } from './runtime/session.js';
export { RwkvState, StateOnDeviceError, type ModelIdentity } from './runtime/state.js';
export {
  generate,
  Generation,
  type GenerateOptions,
  type GenerationPiece,
  type GenerationResult,
} from './runtime/generate.js';
export { Chat, ChatReply, type ChatOptions, type ReplyOptions } from './runtime/chat.js';
export { Sampler } from './runtime/sampling/sampler.js';
export type { SamplingOptions } from './runtime/sampling/options.js';
export { ByteTokenizer } from './tokenizer/byte.js';
export { WorldTokenizer } from './tokenizer/world.js';
export type { RwkvConfig } from './model/config.js';

/**
 * Loads an RWKV-7 checkpoint (.pth or .safetensors) onto the GPU. `name` stands for the file in
 * error messages. The checkpoint is read range by range while the weights are uploaded and is
 * not kept afterwards.
 */
export async function loadModelFromBlob(
  checkpoint: Blob | Uint8Array | ByteSource,
  name = checkpoint instanceof File ? checkpoint.name : 'checkpoint',
  opts: WebGpuOptions = {},
): Promise<WebGpuBackend> {
  const source =
    checkpoint instanceof Blob
      ? new BlobByteSource(checkpoint)
      : checkpoint instanceof Uint8Array
        ? new MemoryByteSource(checkpoint)
        : checkpoint;
  const opened = await openCheckpointSource(source, name);
  try {
    return await WebGpuBackend.load(await describeModel(opened), opts);
  } finally {
    await opened.close();
  }
}

/** The World tokenizer from the vocab file's content (rwkv_vocab_v20230424.txt). */
export function worldTokenizerFrom(vocab: string | Uint8Array, name = 'vocab'): WorldTokenizer {
  return new WorldTokenizer(parseWorldVocab(vocab, name));
}
