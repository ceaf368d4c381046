// What the route handlers share: the engine, the stores, metrics and the limits in force.
import type { FastifyBaseLogger } from 'fastify';
import type { Backend } from '../backends/backend.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import type { GenerationEngine } from './engine.js';
import { modelNotFound } from './errors.js';
import type { Metrics } from './metrics.js';
import type { PrefixStateCache } from './state-cache.js';
import type { StateStore } from './state-store.js';

export interface ServerLimits {
  /** Ceiling for max_tokens (and its default when a request leaves it out). */
  maxTokensCap: number;
  defaultMaxTokens: number;
  maxPromptTokens: number;
}

export interface ServerContext {
  readonly modelName: string;
  /** Unix seconds when the model was loaded (GET /v1/models "created"). */
  readonly modelCreated: number;
  readonly backend: Backend;
  readonly tokenizer: Tokenizer;
  readonly engine: GenerationEngine;
  readonly cache: PrefixStateCache;
  readonly store: StateStore;
  readonly metrics: Metrics;
  readonly limits: ServerLimits;
  readonly log: FastifyBaseLogger;
}

export function checkModel(ctx: ServerContext, model: string): void {
  if (model !== ctx.modelName) throw modelNotFound(model, ctx.modelName);
}

/** OpenAI's system_fingerprint: here, which weights answered. */
export function systemFingerprint(ctx: ServerContext): string {
  return `fp_${ctx.backend.model.fingerprint.slice(0, 12) || 'unknown'}`;
}
