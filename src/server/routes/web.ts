// The chat page at / : three static files from src/server/web (no build step), read once.
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

export function registerWebRoutes(app: FastifyInstance): void {
  const dir = new URL('../web/', import.meta.url);
  for (const [path, { file, type }] of Object.entries(FILES)) {
    const content = readFileSync(new URL(file, dir));
    app.get(path, async (_req, reply) => {
      reply
        .type(type)
        .header('cache-control', 'no-cache')
        .header('content-security-policy', "default-src 'self'");
      return content;
    });
  }
}
