// JSON schemas of the request bodies (validated by fastify's ajv before a handler runs; a
// mismatch becomes a 400 invalid_request_error naming the field). Ranges follow the OpenAI API
// reference; fields we do not know are ignored, as OpenAI-compatible servers do, so that SDK
// extras (user, store, metadata …) do not break requests.
import { STATE_ID_PATTERN } from './state-store.js';

const nullable = (schema: Record<string, unknown>) => ({ anyOf: [schema, { type: 'null' }] });

const stopSchema = nullable({
  anyOf: [
    { type: 'string', minLength: 1 },
    { type: 'array', items: { type: 'string', minLength: 1 }, maxItems: 4 },
  ],
});

/** Sampling fields shared by chat and text completions. */
const samplingProperties = {
  model: { type: 'string', minLength: 1 },
  max_tokens: nullable({ type: 'integer', minimum: 1 }),
  temperature: nullable({ type: 'number', minimum: 0, maximum: 2 }),
  top_p: nullable({ type: 'number', minimum: 0, maximum: 1 }),
  // Extensions beyond the OpenAI API (as in vLLM / llama.cpp servers).
  top_k: nullable({ type: 'integer', minimum: 0 }),
  min_p: nullable({ type: 'number', minimum: 0, maximum: 1 }),
  presence_penalty: nullable({ type: 'number', minimum: -2, maximum: 2 }),
  frequency_penalty: nullable({ type: 'number', minimum: -2, maximum: 2 }),
  seed: nullable({ type: 'integer' }),
  stop: stopSchema,
  stream: nullable({ type: 'boolean' }),
  stream_options: nullable({
    type: 'object',
    properties: { include_usage: { type: 'boolean' } },
  }),
  // Only one choice per request: RWKV samples one sequence per state.
  n: nullable({ type: 'integer', minimum: 1, maximum: 1 }),
  logit_bias: nullable({
    type: 'object',
    propertyNames: { pattern: '^[0-9]+$' },
    additionalProperties: { type: 'number', minimum: -100, maximum: 100 },
  }),
  /** Our extension: continue from a saved state (POST /v1/states). */
  state: nullable({ type: 'string', pattern: STATE_ID_PATTERN }),
} as const;

const contentPart = {
  type: 'object',
  required: ['type'],
  properties: {
    type: { type: 'string', enum: ['text'] },
    text: { type: 'string' },
  },
};

export const messageSchema = {
  type: 'object',
  required: ['role'],
  properties: {
    role: { type: 'string', enum: ['system', 'developer', 'user', 'assistant'] },
    content: nullable({
      anyOf: [{ type: 'string' }, { type: 'array', items: contentPart }],
    }),
    name: { type: 'string' },
  },
} as const;

export const chatCompletionBody = {
  type: 'object',
  required: ['model', 'messages'],
  properties: {
    ...samplingProperties,
    max_completion_tokens: nullable({ type: 'integer', minimum: 1 }),
    messages: { type: 'array', minItems: 1, items: messageSchema },
  },
} as const;

export const completionBody = {
  type: 'object',
  required: ['model', 'prompt'],
  properties: {
    ...samplingProperties,
    // One prompt per request (a one-element array is accepted, as n=1 is).
    prompt: {
      anyOf: [
        { type: 'string' },
        { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 1 },
      ],
    },
    echo: nullable({ type: 'boolean' }),
  },
} as const;

export const createStateBody = {
  type: 'object',
  properties: {
    /** Start from this saved state (a fork); without it, from the zero state. */
    from: nullable({ type: 'string', pattern: STATE_ID_PATTERN }),
    /** Text to read into the state … */
    prompt: { type: 'string' },
    /** … or a conversation, rendered in the chat format. */
    messages: { type: 'array', minItems: 1, items: messageSchema },
  },
} as const;

export const stateIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string' } },
} as const;

// Loose types of validated bodies (what the schemas above guarantee).
export type ChatMessage = {
  role: 'system' | 'developer' | 'user' | 'assistant';
  content?: string | { type: 'text'; text?: string }[] | null;
  name?: string;
};

export interface SamplingBody {
  model: string;
  max_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  top_k?: number | null;
  min_p?: number | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  seed?: number | null;
  stop?: string | string[] | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  n?: number | null;
  logit_bias?: Record<string, number> | null;
  state?: string | null;
}

export interface ChatCompletionBody extends SamplingBody {
  messages: ChatMessage[];
  max_completion_tokens?: number | null;
}

export interface CompletionBody extends SamplingBody {
  prompt: string | string[];
  echo?: boolean | null;
}

export interface CreateStateBody {
  from?: string | null;
  prompt?: string;
  messages?: ChatMessage[];
}
