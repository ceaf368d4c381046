// Option parsers shared by subcommands; each throws a message naming the bad value.
import { InvalidArgumentError } from 'commander';
import type { DeviceChoice } from '../runtime/load.js';
import type { TokenizerKind } from '../tokenizer/load.js';

export function parseDevice(value: string): DeviceChoice {
  if (value === 'cpu' || value === 'webgpu' || value === 'auto') return value;
  throw new InvalidArgumentError(`unknown device "${value}" (expected cpu, webgpu or auto)`);
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
