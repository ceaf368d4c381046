// Saved conversation states (our extension of the API):
//   POST   /v1/states      {prompt | messages, from?}  read text into a new state (from a saved
//                          one when `from` is given: a fork; `from` alone copies it) and save it
//   GET    /v1/states      list them;  GET /v1/states/:id  one;  DELETE /v1/states/:id
// A saved state is used by passing `"state": id` to /v1/chat/completions or /v1/completions:
// the request's messages or prompt then continue it.
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { invalidRequest, notFound } from '../errors.js';
import { createStateBody, stateIdParams, type CreateStateBody } from '../schemas.js';
import { renderConversation } from './chat.js';

export function registerStateRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const missing = (id: string) => notFound(`No saved state with id '${id}'.`, 'id');

  app.post('/v1/states', { schema: { body: createStateBody } }, async (req, reply) => {
    const body = (req.body ?? {}) as CreateStateBody;
    if (body.prompt !== undefined && body.messages !== undefined) {
      throw invalidRequest('Give either prompt or messages, not both.', 'messages');
    }
    // Messages are rendered without the "Assistant:" prefix: the state ends after the last
    // message, ready for a chat request to add the next turn.
    const text =
      body.messages !== undefined ? renderConversation(body.messages, false) : (body.prompt ?? '');
    if (!body.from && text === '') {
      throw invalidRequest(
        'Give a prompt or messages to read (or `from` to copy a state).',
        'prompt',
      );
    }
    let parent = null;
    if (body.from) {
      parent = await ctx.store.load(body.from);
      if (!parent) throw notFound(`No saved state with id '${body.from}'.`, 'from');
    }
    const origin = parent ? { id: parent.info.id, state: parent.state } : null;
    const { state, tokens } = await ctx.engine.readText(origin, text);
    const info = await ctx.store.save(state, {
      parent: parent?.info.id ?? null,
      tokens: (parent?.info.tokens ?? 0) + tokens,
      text: (parent?.info.text ?? '') + text,
    });
    reply.code(201);
    return info;
  });

  app.get('/v1/states', async () => ({ object: 'list', data: await ctx.store.list() }));

  app.get('/v1/states/:id', { schema: { params: stateIdParams } }, async (req) => {
    const { id } = req.params as { id: string };
    const saved = await ctx.store.load(id);
    if (!saved) throw missing(id);
    return saved.info;
  });

  app.delete('/v1/states/:id', { schema: { params: stateIdParams } }, async (req) => {
    const { id } = req.params as { id: string };
    if (!(await ctx.store.delete(id))) throw missing(id);
    ctx.cache.dropOrigin(id);
    return { id, object: 'state', deleted: true };
  });
}
