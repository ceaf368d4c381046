// Builds the HTTP server: model + tokenizer → scheduler → engine → fastify routes.
// `startServer` is what `rwkv serve` and the tests call; it listens only on `host`.
import { homedir } from 'node:os';
import { basename, extname, join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Backend } from '../backends/backend.js';
import type { GemmChoice } from '../backends/webgpu/device.js';
import { loadModel, type DeviceChoice } from '../runtime/load.js';
import { BatchScheduler } from '../runtime/scheduler.js';
import { openTokenizer } from '../tokenizer/load.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { installAuth } from './auth.js';
import type { ServerContext } from './context.js';
import { GenerationEngine } from './engine.js';
import { installErrorHandling } from './error-handler.js';
import { createServerMetrics } from './server-metrics.js';
import { registerChatRoute } from './routes/chat.js';
import { registerCompletionsRoute } from './routes/completions.js';
import { registerModelRoutes } from './routes/models.js';
import { registerOpsRoutes } from './routes/ops.js';
import { registerStateRoutes } from './routes/states.js';
import { registerWebRoutes } from './routes/web.js';
import { PrefixStateCache } from './state-cache.js';
import { StateStore } from './state-store.js';

export interface ServeOptions {
  /** Checkpoint path (.pth / .safetensors); or give `backend` directly. */
  model?: string;
  /** World vocab file (default: found beside the model). */
  vocab?: string;
  device?: DeviceChoice;
  /** CPU backend: threads for matrix products (default: every core). */
  threads?: number;
  /** WebGPU backend: its GEMM kernel (LoadOptions.gemm). */
  gemm?: GemmChoice;
  /** WebGPU backend: tokens per step (LoadOptions.stepTokens). */
  stepTokens?: number;
  /** Already loaded model and tokenizer (tests share one across servers). */
  backend?: Backend;
  tokenizer?: Tokenizer;
  /** The model id clients send (default: the checkpoint's file name without extension). */
  modelName?: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** When set, /v1/* requires "Authorization: Bearer <apiKey>". */
  apiKey?: string;
  /** Most generations advanced together (batch slots). */
  maxBatch?: number;
  /** Most requests waiting for a slot before new ones get 429. */
  maxQueue?: number;
  /** Memory budget of the prefix state cache, MiB (0 disables it). */
  stateCacheMb?: number;
  /** Folder of saved states (POST /v1/states). */
  stateDir?: string;
  maxTokensCap?: number;
  defaultMaxTokens?: number;
  maxPromptTokens?: number;
  /** Largest accepted request body, bytes. */
  maxBodyBytes?: number;
  /** Prompt tokens per prefill chunk, and prompt tokens read per scheduler step (at least a chunk). */
  prefillChunk?: number;
  prefillTokensPerStep?: number;
  /** fastify logger setting (false in tests, pino options in `rwkv serve`). */
  logger?: boolean | Record<string, unknown>;
}

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly ctx: ServerContext;
  /** e.g. http://127.0.0.1:8000 */
  readonly url: string;
  close(): Promise<void>;
}

export const SERVE_DEFAULTS = {
  host: '127.0.0.1',
  port: 8000,
  maxBatch: 16,
  maxQueue: 64,
  stateCacheMb: 256,
  maxTokensCap: 4096,
  defaultMaxTokens: 256,
  maxPromptTokens: 32768,
  maxBodyBytes: 4 * 1024 * 1024,
  prefillChunk: 64,
  prefillTokensPerStep: 128,
} as const;

export function defaultStateDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'rwkv-ts', 'states');
}

export async function buildServer(opts: ServeOptions): Promise<{
  app: FastifyInstance;
  ctx: ServerContext;
}> {
  const o = { ...SERVE_DEFAULTS, ...definedOnly(opts) };
  if (!opts.backend && !opts.model) throw new Error('serve: give a model path (--model)');
  const backend =
    opts.backend ??
    (await loadModel(opts.model!, {
      device: o.device,
      threads: o.threads,
      gemm: o.gemm,
      stepTokens: o.stepTokens,
    }));
  const tokenizer =
    opts.tokenizer ??
    openTokenizer({ vocab: opts.vocab, model: opts.model, vocabSize: backend.config.vocabSize });
  const modelName =
    opts.modelName ?? (opts.model ? basename(opts.model, extname(opts.model)) : 'rwkv');

  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: o.maxBodyBytes,
    // On shutdown, drop open connections too: a streaming client would otherwise hold it up.
    forceCloseConnections: true,
    // Strict validation: a wrong type is an error, never silently coerced or dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });
  const scheduler = new BatchScheduler(backend, {
    maxBatch: o.maxBatch,
    maxQueue: o.maxQueue,
    prefillChunk: o.prefillChunk,
    prefillTokensPerStep: o.prefillTokensPerStep,
  });
  const cache = new PrefixStateCache(o.stateCacheMb * 1024 * 1024);
  const engine = new GenerationEngine(backend, tokenizer, scheduler, cache, {
    maxPromptTokens: o.maxPromptTokens,
  });
  const store = new StateStore(opts.stateDir ?? defaultStateDir(), backend.model);
  await store.init();
  const metrics = createServerMetrics(engine, app.log);
  const ctx: ServerContext = {
    modelName,
    modelCreated: Math.floor(Date.now() / 1000),
    backend,
    tokenizer,
    engine,
    cache,
    store,
    metrics,
    limits: {
      maxTokensCap: o.maxTokensCap,
      defaultMaxTokens: Math.min(o.defaultMaxTokens, o.maxTokensCap),
      maxPromptTokens: o.maxPromptTokens,
    },
    log: app.log,
  };

  installErrorHandling(app, metrics);
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unknown';
    metrics.inc('rwkv_http_requests_total', 1, { route, status: String(reply.statusCode) });
  });
  installAuth(app, opts.apiKey);
  registerWebRoutes(app);
  registerOpsRoutes(app, ctx);
  registerModelRoutes(app, ctx);
  registerChatRoute(app, ctx);
  registerCompletionsRoute(app, ctx);
  registerStateRoutes(app, ctx);
  app.addHook('onClose', async () => {
    scheduler.close();
    // A backend passed in by the caller is the caller's to dispose.
    if (!opts.backend) await backend.dispose();
  });
  return { app, ctx };
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const { app, ctx } = await buildServer(opts);
  const host = opts.host ?? SERVE_DEFAULTS.host;
  await app.listen({ host, port: opts.port ?? SERVE_DEFAULTS.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return { app, ctx, url: `http://${shownHost}:${port}`, close: () => app.close() };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
