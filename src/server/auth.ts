// Optional API key: with one configured, every /v1/ request must carry
// "Authorization: Bearer <key>" (what the OpenAI SDKs send). The chat page, /health and
// /metrics stay open so that the page can load and monitors can scrape.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { unauthorized } from './errors.js';

export function installAuth(app: FastifyInstance, apiKey: string | undefined): void {
  if (!apiKey) return;
  // Compare digests so that the comparison takes the same time whatever the key's length.
  const digest = (s: string) => createHash('sha256').update(s).digest();
  const expected = digest(apiKey);
  app.addHook('onRequest', async (req) => {
    if (!req.url.startsWith('/v1/')) return;
    const header = req.headers.authorization;
    if (!header) {
      throw unauthorized(
        'No API key given. Send it in the Authorization header: "Authorization: Bearer YOUR_KEY".',
      );
    }
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match || !timingSafeEqual(digest(match[1].trim()), expected)) {
      throw unauthorized('Incorrect API key provided.');
    }
  });
}
