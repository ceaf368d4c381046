// The sampling flags shared by `rwkv generate` and `rwkv chat`, and their conversion to
// SamplingOptions. Each command supplies its own defaults (see the commands for their sources).
import type { Command } from 'commander';
import type { SamplingOptions } from '../runtime/sampling/options.js';
import { parseInteger, parseNumber } from './options.js';

export interface SamplingDefaults {
  temperature: number;
  topP: number;
  presencePenalty: number;
  frequencyPenalty: number;
  maxTokens: number;
}

export interface SamplingFlags {
  temperature: number;
  topP: number;
  topK: number;
  minP: number;
  presencePenalty: number;
  frequencyPenalty: number;
  penaltyDecay: number;
  seed?: number;
  maxTokens: number;
}

export function addSamplingFlags(cmd: Command, d: SamplingDefaults): Command {
  return cmd
    .option('--temperature <t>', 'softmax temperature; 0 = greedy', parseNumber, d.temperature)
    .option('--top-p <p>', 'nucleus sampling mass (1 = off)', parseNumber, d.topP)
    .option('--top-k <k>', 'keep the k most likely tokens (0 = off)', parseInteger, 0)
    .option('--min-p <p>', 'drop tokens below p × the top probability (0 = off)', parseNumber, 0)
    .option('--presence-penalty <a>', 'penalty for any repeat', parseNumber, d.presencePenalty)
    .option('--frequency-penalty <a>', 'penalty per repeat', parseNumber, d.frequencyPenalty)
    .option('--penalty-decay <d>', 'decay of repeat counts per token', parseNumber, 0.996)
    .option('--seed <n>', 'random seed (reproduces a sample exactly)', parseInteger)
    .option('--max-tokens <n>', 'most tokens to generate', parseInteger, d.maxTokens);
}

export function samplingFromFlags(f: SamplingFlags): SamplingOptions {
  return {
    temperature: f.temperature,
    topP: f.topP,
    topK: f.topK,
    minP: f.minP,
    presencePenalty: f.presencePenalty,
    frequencyPenalty: f.frequencyPenalty,
    penaltyDecay: f.penaltyDecay,
    seed: f.seed,
  };
}

/** Shell-friendly escapes in stop strings: \n, \t, \r and \\ (so --stop '\n\n' works). */
export function unescapeStop(value: string): string {
  return value.replace(/\\([ntr\\])/g, (_, c: string) =>
    c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '\r' : '\\',
  );
}
