// Option parsers shared by subcommands; each throws a message naming the bad value.
import { InvalidArgumentError } from 'commander';
import type { GemmChoice } from '../backends/webgpu/device.js';
import type { DeviceChoice } from '../runtime/load.js';
import type { TokenizerKind } from '../tokenizer/load.js';

export function parseDevice(value: string): DeviceChoice {
  if (value === 'cpu' || value === 'webgpu' || value === 'auto') return value;
  throw new InvalidArgumentError(`unknown device "${value}" (expected cpu, webgpu or auto)`);
}

/** `--gemm`'s help line, shared by the commands that load a model. */
export const GEMM_HELP =
  'WebGPU matrix kernel: auto (tensor cores where the GPU has them, f32-like results), ' +
  'f16 (tensor cores with f16 inputs: faster prefill and batches, fp16 precision) or f32 ' +
  '(default: $RWKV_WEBGPU_GEMM, else auto)';

export function parseGemm(value: string): GemmChoice {
  if (value === 'auto' || value === 'f16' || value === 'f32') return value;
  throw new InvalidArgumentError(`unknown gemm kernel "${value}" (expected auto, f16 or f32)`);
}

/** `--step-tokens`' help line, shared by the commands that load a model. */
export const STEP_TOKENS_HELP =
  'WebGPU: tokens one step holds (the longest prompt chunk, the largest batch); fewer use ' +
  'less GPU memory and prefill more slowly (default: by model size, up to 4096)';

export function parseStepTokens(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`"${value}" is not a whole number of tokens ≥ 1`);
  return n;
}

export function parseTokenList(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  const ids = parts.map(Number);
  const bad = parts.find((s, i) => s === '' || !Number.isInteger(ids[i]) || ids[i] < 0);
  if (bad !== undefined || ids.length === 0) {
    throw new InvalidArgumentError(`"${value}" is not a comma-separated list of token ids`);
  }
  return ids;
}

export function parseNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new InvalidArgumentError(`"${value}" is not a number`);
  return n;
}

export function parseInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`"${value}" is not an integer`);
  return n;
}

export function parseTokenizerKind(value: string): TokenizerKind {
  if (value === 'world' || value === 'bytes') return value;
  throw new InvalidArgumentError(`unknown tokenizer "${value}" (expected world or bytes)`);
}
