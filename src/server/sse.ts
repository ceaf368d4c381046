// Server-sent events in the OpenAI streaming wire format: each event is one line
// "data: <json>" followed by a blank line, and the stream ends with "data: [DONE]".
import type { FastifyReply } from 'fastify';

export class SseStream {
  private ended = false;

  constructor(private readonly reply: FastifyReply) {
    // Take the socket from fastify: the body is written piece by piece as tokens arrive.
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      // Tell buffering proxies (nginx) to pass every event through at once.
      'x-accel-buffering': 'no',
    });
  }

  /** True once the client went away or the stream was ended. */
  get closed(): boolean {
    return this.ended || this.reply.raw.destroyed || this.reply.raw.writableEnded;
  }

  send(data: unknown): void {
    if (!this.closed) this.reply.raw.write(`data: ${JSON.stringify(data)}\n\n`);
  }

  /** Ends the stream the way OpenAI clients expect. */
  done(): void {
    if (this.closed) return;
    this.ended = true;
    this.reply.raw.end('data: [DONE]\n\n');
  }

  /** Ends the stream after an error event (the SDKs raise it as an APIError). */
  fail(body: unknown): void {
    this.send(body);
    this.ended = true;
    if (!this.reply.raw.writableEnded) this.reply.raw.end();
  }
}

/** Calls `onGone` if the client closes the connection before the response is complete. */
export function onClientGone(reply: FastifyReply, onGone: () => void): () => void {
  const listener = () => {
    if (!reply.raw.writableFinished) onGone();
  };
  reply.raw.on('close', listener);
  return () => reply.raw.off('close', listener);
}
