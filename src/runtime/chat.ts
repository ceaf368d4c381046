// A multi-turn chat on one Session. History is never re-processed: the state carries it, and
// each turn feeds only its new text ("User: …\n\nAssistant:"). The format is chat-format.ts.
//
// Invariant between turns: the text in the state ends with a complete turn and "\n\n" —
//   (System: …\n\n)? (User: …\n\nAssistant: …\n\n)*
// A reply stops on "\n\n" (fed, so the state already ends right) or on end of text; when it
// ends any other way (end-of-text token, maxTokens, Ctrl-C) the missing newlines are fed at
// once, so a saved state always continues exactly like an uninterrupted conversation.
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import {
  assistantPrefix,
  normalizeMessage,
  renderSystemTurn,
  renderUserTurn,
  TURN_SEPARATOR,
  type ThinkMode,
} from './chat-format.js';
import { generate, type GenerationPiece, type GenerationResult } from './generate.js';
import type { SamplingOptions } from './sampling/options.js';
import { Session } from './session.js';

export interface ChatOptions {
  /** A system prompt, fed once as its own turn at the start of the conversation. */
  system?: string;
  think?: ThinkMode;
  /**
   * Sampling for every reply. With a seed, reply n uses seed + n, so turns reproduce (also
   * after save/load). Repetition counts start fresh with each reply, as in API_DEMO_CHAT.py.
   */
  sampling?: SamplingOptions;
  /** Most tokens per reply (default 1024). */
  maxTokens?: number;
}

export interface ReplyOptions {
  signal?: AbortSignal;
  sampling?: SamplingOptions;
  maxTokens?: number;
}

export interface ChatTurn {
  user: string;
  assistant: string;
}

export interface ReplyResult extends GenerationResult {
  /** The reply as shown, without the leading space the format puts after "Assistant:". */
  reply: string;
  /** Text fed after the reply to close the turn ('' when it stopped on "\n\n"). */
  closedWith: string;
}

/** Marks a chat state file, so /load can refuse a plain generation state. */
const CHAT_STATE_FORMAT = 'rwkv-ts-chat/1';

export class Chat {
  readonly think: ThinkMode;
  /** Completed turns (for display and for saving with the state). */
  turns: ChatTurn[] = [];
  private primed = false;

  constructor(
    readonly session: Session,
    readonly tokenizer: Tokenizer,
    private readonly options: ChatOptions = {},
  ) {
    this.think = options.think ?? 'none';
  }

  /** The reply to `userText`, streamed; the state advances by exactly this turn. */
  reply(userText: string, opts: ReplyOptions = {}): ChatReply {
    const message = normalizeMessage(userText);
    if (message.length === 0) throw new Error('the message is empty');
    return new ChatReply(this, message, opts);
  }

  /** Forget the conversation: zero state, then the system prompt again at the next turn. */
  reset(): void {
    this.session.reset();
    this.turns = [];
    this.primed = false;
  }

  async save(path: string): Promise<void> {
    await this.session.save(path, {
      format: CHAT_STATE_FORMAT,
      think: this.think,
      turns: this.turns,
    });
  }

  /** Continue a saved conversation (its system prompt is already in the state). */
  async load(path: string): Promise<void> {
    const { session, meta } = await Session.load(this.session.backend, path);
    if (meta.format !== CHAT_STATE_FORMAT) {
      throw new Error(`${path}: not a saved chat (it has no ${CHAT_STATE_FORMAT} marker)`);
    }
    this.session.copyFrom(session);
    this.turns = Array.isArray(meta.turns) ? (meta.turns as ChatTurn[]) : [];
    this.primed = true;
  }

  /** @internal The text to feed before the user turn (the system turn on the first one). */
  openingText(message: string): string {
    let text = '';
    if (!this.primed && this.options.system !== undefined) {
      const system = normalizeMessage(this.options.system);
      if (system) text += renderSystemTurn(system);
    }
    return text + renderUserTurn(message, this.think);
  }

  /** @internal Called by ChatReply once the turn is closed. */
  completeTurn(turn: ChatTurn): void {
    this.primed = true;
    this.turns.push(turn);
  }

  /** @internal */
  samplingFor(opts: ReplyOptions): { sampling: SamplingOptions; maxTokens: number } {
    const sampling = { ...this.options.sampling, ...opts.sampling };
    if (sampling.seed !== undefined)
      sampling.seed = BigInt(sampling.seed) + BigInt(this.turns.length);
    return { sampling, maxTokens: opts.maxTokens ?? this.options.maxTokens ?? 1024 };
  }
}

/** One streaming reply. Iterate for pieces; `result` is set once the turn is closed. */
export class ChatReply implements AsyncIterable<GenerationPiece> {
  result: ReplyResult | undefined;

  constructor(
    private readonly chat: Chat,
    private readonly message: string,
    private readonly opts: ReplyOptions,
  ) {}

  async *[Symbol.asyncIterator](): AsyncIterator<GenerationPiece> {
    const chat = this.chat;
    const { sampling, maxTokens } = chat.samplingFor(this.opts);
    const countBefore = chat.session.tokenCount;
    const gen = generate(chat.session, chat.tokenizer, {
      ...sampling,
      prompt: chat.openingText(this.message),
      maxTokens,
      stop: [TURN_SEPARATOR],
      stopTokens: [chat.tokenizer.endOfText],
      signal: this.opts.signal,
    });
    yield* gen;
    const r = await gen.complete();

    // Close the turn so that the state ends with "\n\n" (see the invariant above).
    let closedWith = '';
    if (chat.session.tokenCount === countBefore) {
      // Aborted before anything was fed: the state is untouched, there is no turn to record.
      this.result = { ...r, reply: '', closedWith };
      return;
    }
    if (!(r.stoppedBy && 'string' in r.stoppedBy)) {
      const fed = assistantPrefix(chat.think) + r.text;
      closedWith = fed.endsWith('\n') ? '\n' : TURN_SEPARATOR;
      await chat.session.feed(chat.tokenizer.encode(closedWith));
    }
    const reply = r.text.startsWith(' ') ? r.text.slice(1) : r.text;
    chat.completeTurn({ user: this.message, assistant: normalizeMessage(reply) });
    this.result = { ...r, reply, closedWith };
  }

  /** Runs the whole reply and returns its result. */
  async complete(): Promise<ReplyResult> {
    for await (const _piece of this);
    return this.result!;
  }
}
