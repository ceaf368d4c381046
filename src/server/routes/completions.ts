// POST /v1/completions: plain text continuation of `prompt`.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { checkModel, systemFingerprint, type ServerContext } from '../context.js';
import { runGeneration, type ResponseShape } from '../generation-route.js';
import { generationParams } from '../request-params.js';
import { completionBody, type CompletionBody } from '../schemas.js';

export function registerCompletionsRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/v1/completions', { schema: { body: completionBody } }, async (req, reply) => {
    const body = req.body as CompletionBody;
    checkModel(ctx, body.model);
    const params = await generationParams(ctx, body, undefined);
    const prompt = typeof body.prompt === 'string' ? body.prompt : body.prompt[0];
    const id = `cmpl-${randomBytes(12).toString('hex')}`;
    const created = Math.floor(Date.now() / 1000);
    const base = {
      id,
      object: 'text_completion',
      created,
      model: ctx.modelName,
      system_fingerprint: systemFingerprint(ctx),
    };
    const usageField = params.includeUsage ? { usage: null } : {};
    const choice = (text: string, finish: string | null) => ({
      ...base,
      choices: [{ text, index: 0, logprobs: null, finish_reason: finish }],
      ...usageField,
    });
    const echo = body.echo === true ? prompt : '';
    const shape: ResponseShape = {
      transform: (piece) => piece,
      openingChunks: () => (echo ? [choice(echo, null)] : []),
      textChunk: (text) => choice(text, null),
      finalChunk: (finish) => choice('', finish),
      usageChunk: (usage) => ({ ...base, choices: [], usage }),
      body: (text, finish, usage) => ({ ...choice(echo + text, finish), usage }),
    };
    return runGeneration(ctx, reply, 'completions', prompt, params, shape);
  });
}
