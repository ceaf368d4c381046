// The library's public surface: load a model, tokenize, run sessions, sample, chat, keep states.
// Everything here is also what the CLI and the server are built on.
export type { Backend, DeviceName } from './backends/backend.js';
export { loadModel, openModel, type DeviceChoice, type LoadOptions } from './runtime/load.js';
export { Session, type FeedOptions, type SessionMeta } from './runtime/session.js';
export {
  RwkvState,
  StateOnDeviceError,
  type DeviceCopy,
  type ModelIdentity,
} from './runtime/state.js';
export { saveStateFile, loadStateFile } from './runtime/state-file.js';
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
export { openTokenizer, ByteTokenizer, type TokenizerOptions } from './tokenizer/index.js';
export type { RwkvConfig } from './model/config.js';
