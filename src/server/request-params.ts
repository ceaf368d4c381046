// From a validated request body to the engine's parameters: defaults, caps and the checks that
// a JSON schema cannot express (token ids in logit_bias, max_tokens against the server cap,
// the saved state named by `state`).
import type { SamplingOptions } from '../runtime/sampling/options.js';
import type { RwkvState } from '../runtime/state.js';
import type { ServerContext } from './context.js';
import { invalidRequest, notFound } from './errors.js';
import type { SamplingBody } from './schemas.js';

export interface GenerationParams {
  sampling: SamplingOptions;
  maxTokens: number;
  stop: string[];
  origin: { id: string; state: RwkvState; text: string } | null;
  stream: boolean;
  includeUsage: boolean;
}

export async function generationParams(
  ctx: ServerContext,
  body: SamplingBody,
  maxTokensField: number | null | undefined,
): Promise<GenerationParams> {
  const { limits } = ctx;
  const maxTokens = maxTokensField ?? body.max_tokens ?? limits.defaultMaxTokens;
  if (maxTokens > limits.maxTokensCap) {
    throw invalidRequest(
      `max_tokens is ${maxTokens}; this server allows at most ${limits.maxTokensCap}.`,
      'max_tokens',
    );
  }
  const logitBias = new Map<number, number>();
  for (const [key, value] of Object.entries(body.logit_bias ?? {})) {
    const id = Number(key);
    if (!Number.isSafeInteger(id) || id >= ctx.backend.config.vocabSize) {
      throw invalidRequest(
        `logit_bias names token ${key}, outside the vocabulary (0..${ctx.backend.config.vocabSize - 1}).`,
        'logit_bias',
      );
    }
    logitBias.set(id, value);
  }
  const sampling: SamplingOptions = {
    temperature: body.temperature ?? 1,
    topP: body.top_p ?? 1,
    topK: body.top_k ?? 0,
    minP: body.min_p ?? 0,
    presencePenalty: body.presence_penalty ?? 0,
    frequencyPenalty: body.frequency_penalty ?? 0,
    logitBias,
  };
  if (body.seed !== null && body.seed !== undefined) sampling.seed = body.seed;
  const stop = body.stop == null ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop;

  let origin: GenerationParams['origin'] = null;
  if (body.state) {
    const saved = await ctx.store.load(body.state);
    if (!saved) throw notFound(`No saved state with id '${body.state}'.`, 'state');
    origin = { id: saved.info.id, state: saved.state, text: saved.info.text };
  }
  return {
    sampling,
    maxTokens,
    stop,
    origin,
    stream: body.stream === true,
    includeUsage: body.stream_options?.include_usage === true,
  };
}
