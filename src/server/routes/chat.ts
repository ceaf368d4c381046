// POST /v1/chat/completions: messages are rendered in the RWKV chat format (runtime/
// chat-format.ts) and the reply is generated after "Assistant:" until the turn separator.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { renderMessages, TURN_SEPARATOR, type ChatMessage } from '../../runtime/chat-format.js';
import { checkModel, systemFingerprint, type ServerContext } from '../context.js';
import { invalidRequest } from '../errors.js';
import {
  leadingWhitespaceTrimmer,
  runGeneration,
  type ResponseShape,
} from '../generation-route.js';
import { generationParams } from '../request-params.js';
import {
  chatCompletionBody,
  type ChatCompletionBody,
  type ChatMessage as BodyMessage,
} from '../schemas.js';

/** OpenAI's "developer" role is the newer name of "system". */
export function toChatMessages(messages: readonly BodyMessage[]): ChatMessage[] {
  return messages.map((m) => ({
    role: m.role === 'developer' ? 'system' : m.role,
    content: m.content ?? null,
  }));
}

/** Renders messages, turning format errors (e.g. non-text parts) into 400s. */
export function renderConversation(messages: readonly BodyMessage[], generationPrompt: boolean) {
  try {
    return renderMessages(toChatMessages(messages), { addGenerationPrompt: generationPrompt });
  } catch (err) {
    throw invalidRequest((err as Error).message, 'messages');
  }
}

export function registerChatRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/v1/chat/completions', { schema: { body: chatCompletionBody } }, async (req, reply) => {
    const body = req.body as ChatCompletionBody;
    checkModel(ctx, body.model);
    const params = await generationParams(ctx, body, body.max_completion_tokens);
    // A saved state already holds the earlier conversation: the messages continue it.
    const text = renderConversation(body.messages, true);
    // The reply ends where the model starts a new turn.
    params.stop = [TURN_SEPARATOR, ...params.stop];
    const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
    const created = Math.floor(Date.now() / 1000);
    const base = {
      id,
      object: 'chat.completion.chunk',
      created,
      model: ctx.modelName,
      system_fingerprint: systemFingerprint(ctx),
    };
    const usageField = params.includeUsage ? { usage: null } : {};
    const choice = (delta: object, finish: string | null) => ({
      ...base,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...usageField,
    });
    const shape: ResponseShape = {
      transform: leadingWhitespaceTrimmer(),
      openingChunks: () => [choice({ role: 'assistant', content: '' }, null)],
      textChunk: (content) => choice({ content }, null),
      finalChunk: (finish) => choice({}, finish),
      usageChunk: (usage) => ({ ...base, choices: [], usage }),
      body: (content, finish, usage) => ({
        id,
        object: 'chat.completion',
        created,
        model: ctx.modelName,
        system_fingerprint: systemFingerprint(ctx),
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content, refusal: null },
            logprobs: null,
            finish_reason: finish,
          },
        ],
        usage,
      }),
    };
    return runGeneration(ctx, reply, 'chat', text, params, shape);
  });
}
