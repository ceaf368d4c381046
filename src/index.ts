// The library's public surface in Node: everything the browser entry has (sessions, sampling,
// generation, chat, tokenizers, the WebGPU backend, models from bytes), plus what needs a file
// system or threads — models and vocabularies by path, the CPU backend, states as files.
// Everything here is also what the CLI and the server are built on.
export * from './browser.js';
export type { Backend, DeviceName } from './backends/backend.js';
export { loadModel, openModel, type DeviceChoice, type LoadOptions } from './runtime/load.js';
export type { DeviceCopy } from './runtime/state.js';
export { saveStateFile, loadStateFile } from './runtime/state-file.js';
export { openTokenizer, type TokenizerOptions } from './tokenizer/index.js';
