// Operations endpoints: GET /health (liveness and load; 503 once the model's backend cannot run)
// and GET /metrics (Prometheus text).
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';

export function registerOpsRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/health', async (_req, reply) => {
    // A backend whose GPU device was lost fails every request: say so, so that a supervisor
    // restarts the process instead of routing more requests to it.
    const unusable = ctx.backend.unusable?.() ?? null;
    if (unusable) reply.code(503);
    return {
      status: unusable ? 'unavailable' : 'ok',
      ...(unusable ? { error: unusable.message } : {}),
      model: ctx.modelName,
      device: ctx.backend.device,
      active_slots: ctx.engine.scheduler.activeCount,
      queued: ctx.engine.scheduler.queuedCount,
    };
  });
  app.get('/metrics', async (_req, reply) => {
    reply.type('text/plain; version=0.0.4; charset=utf-8');
    return ctx.metrics.render();
  });
}
