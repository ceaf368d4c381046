// GET /v1/models and /v1/models/:id: the one model this server runs.
import type { FastifyInstance } from 'fastify';
import { checkModel, type ServerContext } from '../context.js';

export function registerModelRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const model = () => ({
    id: ctx.modelName,
    object: 'model',
    created: ctx.modelCreated,
    owned_by: 'rwkv-ts',
  });
  app.get('/v1/models', async () => ({ object: 'list', data: [model()] }));
  app.get('/v1/models/:id', async (req) => {
    checkModel(ctx, (req.params as { id: string }).id);
    return model();
  });
}
