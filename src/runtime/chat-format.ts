// The RWKV World / RWKV-7 "G1" chat prompt format, as text.
//
// Source: BlinkDL's model cards (huggingface.co/BlinkDL/rwkv-7-world and /rwkv7-g1, section
// "Prompt Format") and ChatRWKV's API_DEMO_CHAT.py:
//
//   System: SYSTEM_TEXT            (optional, its own turn)
//
//   User: USER_TEXT
//
//   Assistant: REPLY
//
//   User: USER_TEXT
//
//   Assistant:                     ← the model continues here (" REPLY\n\n")
//
// Turns are separated by "\n\n" — the round separator of the training data — so messages must
// never contain one: the model cards say to replace "\n\n" inside a message by "\n", and
// API_DEMO_CHAT.py strips the message and collapses every run of newlines to one.
//
// Reasoning (G1 models): the think-mode prompt ends "Assistant: <think" and the model writes
// ">…</think>" and then the answer. To skip reasoning, the prompt supplies an empty think block,
// "Assistant: <think>\n</think>" (the model cards' "fake think" prompt; the same string the
// G1 runtimes use for enable_thinking = false). Models without reasoning use plain "Assistant:".

export type ThinkMode = 'none' | 'enabled' | 'disabled';

export const TURN_SEPARATOR = '\n\n';

/** Strip, unify line ends, and collapse newline runs so a message cannot forge a turn. */
export function normalizeMessage(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .trim()
    .replace(/\n{2,}/g, '\n');
}

/** The text after which the assistant's reply is generated. */
export function assistantPrefix(think: ThinkMode = 'none'): string {
  switch (think) {
    case 'none':
      return 'Assistant:';
    case 'enabled':
      return 'Assistant: <think';
    case 'disabled':
      return 'Assistant: <think>\n</think>';
  }
}

/** A system turn, ready to be fed: "System: …\n\n". */
export function renderSystemTurn(text: string): string {
  return `System: ${normalizeMessage(text)}${TURN_SEPARATOR}`;
}

/** A user turn followed by the assistant prefix: "User: …\n\nAssistant:". */
export function renderUserTurn(text: string, think: ThinkMode = 'none'): string {
  return `User: ${normalizeMessage(text)}${TURN_SEPARATOR}${assistantPrefix(think)}`;
}

export type ChatRole = 'system' | 'user' | 'assistant';

/** An OpenAI-style message; content may be a string or a list of text parts. */
export interface ChatMessage {
  role: ChatRole | string;
  content: string | null | ReadonlyArray<{ type: string; text?: string }>;
}

const ROLE_NAMES: Record<ChatRole, string> = {
  system: 'System',
  user: 'User',
  assistant: 'Assistant',
};

function contentText(m: ChatMessage, index: number): string {
  if (m.content === null || m.content === undefined) return '';
  if (typeof m.content === 'string') return m.content;
  if (!Array.isArray(m.content)) {
    throw new Error(`message ${index}: content must be a string or a list of text parts`);
  }
  return m.content
    .map((part, j) => {
      if (part.type !== 'text' || typeof part.text !== 'string') {
        throw new Error(`message ${index}, part ${j}: only text parts are supported`);
      }
      return part.text;
    })
    .join('\n');
}

export interface RenderOptions {
  think?: ThinkMode;
  /** End with the assistant prefix so the model writes the next reply (default true). */
  addGenerationPrompt?: boolean;
}

/**
 * The prompt text for a list of messages. Every message becomes "Role: text\n\n" with its text
 * normalised; the same text a stateful Chat feeds turn by turn, so a server can render a
 * conversation and reuse a cached state for its prefix.
 */
export function renderMessages(messages: readonly ChatMessage[], opts: RenderOptions = {}): string {
  let out = '';
  messages.forEach((m, i) => {
    const name = ROLE_NAMES[m.role as ChatRole];
    if (!name) {
      throw new Error(
        `message ${i}: unknown role "${m.role}" (expected system, user or assistant)`,
      );
    }
    out += `${name}: ${normalizeMessage(contentText(m, i))}${TURN_SEPARATOR}`;
  });
  if (opts.addGenerationPrompt ?? true) out += assistantPrefix(opts.think ?? 'none');
  return out;
}

/**
 * Splits a reply generated after "Assistant: <think" into its reasoning and its answer. The
 * generated text starts with ">" (closing the tag); without "</think>" it is all reasoning.
 */
export function splitReasoning(generated: string): { reasoning: string; content: string } {
  const body = generated.startsWith('>') ? generated.slice(1) : generated;
  const end = body.indexOf('</think>');
  if (end < 0) return { reasoning: body.trim(), content: '' };
  return { reasoning: body.slice(0, end).trim(), content: body.slice(end + 8).trim() };
}
