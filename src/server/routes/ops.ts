// Operations endpoints: GET /health (liveness and load) and GET /metrics (Prometheus text).
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';

export function registerOpsRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/health', async () => ({
    status: 'ok',
    model: ctx.modelName,
    device: ctx.backend.device,
    active_slots: ctx.engine.scheduler.activeCount,
    queued: ctx.engine.scheduler.queuedCount,
  }));
  app.get('/metrics', async (_req, reply) => {
    reply.type('text/plain; version=0.0.4; charset=utf-8');
    return ctx.metrics.render();
  });
}
