// Runs one generation for an HTTP request, streamed (SSE) or not, in the shape of the endpoint
// (chat or text completion). Shared by both endpoints so that they cancel, count and report
// errors the same way.
import type { FastifyReply } from 'fastify';
import { BackendUnusableError } from '../backends/backend.js';
import type { ServerContext } from './context.js';
import { CancelledError, type FinishReason, type GenerateResult } from './engine.js';
import { ApiError, backendUnavailable, serverError } from './errors.js';
import type { GenerationParams } from './request-params.js';
import { onClientGone, SseStream } from './sse.js';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

/** How one endpoint shapes its responses (see routes/chat.ts and routes/completions.ts). */
export interface ResponseShape {
  /** Rewrites streamed text before it is sent (e.g. drop the reply's leading space). */
  transform(piece: string): string;
  /** Chunks to send before any text (chat: the assistant role). */
  openingChunks(): unknown[];
  textChunk(text: string): unknown;
  finalChunk(finishReason: FinishReason): unknown;
  usageChunk(usage: Usage): unknown;
  body(text: string, finishReason: FinishReason, usage: Usage): unknown;
}

export function usageOf(r: GenerateResult): Usage {
  return {
    prompt_tokens: r.promptTokens,
    completion_tokens: r.completionTokens,
    total_tokens: r.promptTokens + r.completionTokens,
    prompt_tokens_details: { cached_tokens: r.cachedTokens },
  };
}

export async function runGeneration(
  ctx: ServerContext,
  reply: FastifyReply,
  endpoint: string,
  promptText: string,
  params: GenerationParams,
  shape: ResponseShape,
): Promise<unknown> {
  const request = {
    text: promptText,
    origin: params.origin,
    sampling: params.sampling,
    maxTokens: params.maxTokens,
    stop: params.stop,
    promptParam: endpoint === 'chat' ? 'messages' : 'prompt',
  };
  const count = (outcome: string) =>
    ctx.metrics.inc('rwkv_generations_total', 1, { endpoint, outcome });

  if (!params.stream) {
    let text = '';
    const run = ctx.engine.start(request, (piece) => (text += shape.transform(piece)));
    const forget = onClientGone(reply, () => run.cancel());
    try {
      const result = await run.done;
      count(result.finishReason);
      return shape.body(text, result.finishReason, usageOf(result));
    } catch (err) {
      if (!(err instanceof CancelledError)) {
        count('failed');
        throw asApiError(ctx, err);
      }
      count('cancelled');
      // Nobody is left to answer (client gone, or the server is shutting down): drop the
      // connection rather than leave it open without a response.
      reply.hijack();
      reply.raw.destroy();
      return reply;
    } finally {
      forget();
    }
  }

  // Validation and admission errors (400, 429) happen in start(), before the stream opens, so
  // they still get a normal JSON error response.
  let sse: SseStream | null = null;
  const pending: string[] = [];
  const run = ctx.engine.start(request, (piece) => {
    const text = shape.transform(piece);
    if (!text) return;
    if (sse) sse.send(shape.textChunk(text));
    else pending.push(text);
  });
  sse = new SseStream(reply);
  for (const chunk of shape.openingChunks()) sse.send(chunk);
  for (const text of pending) sse.send(shape.textChunk(text));
  const forget = onClientGone(reply, () => run.cancel());
  try {
    const result = await run.done;
    count(result.finishReason);
    const usage = usageOf(result);
    sse.send(shape.finalChunk(result.finishReason));
    if (params.includeUsage) sse.send(shape.usageChunk(usage));
    sse.done();
  } catch (err) {
    if (err instanceof CancelledError) {
      count('cancelled');
      reply.raw.destroy();
    } else {
      count('failed');
      sse.fail(asApiError(ctx, err).body());
    }
  } finally {
    forget();
  }
  return reply;
}

function asApiError(ctx: ServerContext, err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  ctx.log.error({ err }, 'generation failed');
  if (err instanceof BackendUnusableError) return backendUnavailable(err.message);
  return serverError(`Generation failed: ${err instanceof Error ? err.message : String(err)}`);
}

/** Drops whitespace at the very start of a reply (RWKV replies begin with " "). */
export function leadingWhitespaceTrimmer(): (piece: string) => string {
  let started = false;
  return (piece) => {
    if (started) return piece;
    const trimmed = piece.trimStart();
    if (trimmed) started = true;
    return trimmed;
  };
}
