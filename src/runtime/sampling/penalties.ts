// Presence and frequency penalties with per-token decay, as ChatRWKV applies them
// (API_DEMO_CHAT.py and rwkv.utils.PIPELINE.generate):
//
//   before each draw:   logit[t] -= presence + count[t] · frequency   for every t with count[t] > 0
//   after each draw:    count[t] *= decay for all t; then count[sampled] += 1
//
// Tokens in the exclusion set are never counted, so they are never penalised. (The rwkv pip
// PIPELINE records excluded tokens with a count of 0, which still charges them the presence
// penalty; here an excluded token is simply absent, which is what "excluded" promises.)
//
// Counts live in a Map because only the tokens actually generated have one — a few hundred,
// against a 65536-token vocabulary.

export class RepetitionPenalty {
  private readonly counts = new Map<number, number>();

  constructor(
    readonly presence: number,
    readonly frequency: number,
    readonly decay: number,
    private readonly excluded: ReadonlySet<number> = new Set(),
  ) {}

  /** True when the penalty can change a logit at all (both coefficients zero ⇒ no work). */
  get active(): boolean {
    return this.presence !== 0 || this.frequency !== 0;
  }

  /** Subtract the penalties from `logits` in place. */
  apply(logits: Float64Array): void {
    if (!this.active) return;
    for (const [token, count] of this.counts) {
      if (count > 0) logits[token] -= this.presence + count * this.frequency;
    }
  }

  /** Record that `token` was emitted: decay every count, then count the token once. */
  record(token: number): void {
    for (const [t, c] of this.counts) this.counts.set(t, c * this.decay);
    if (!this.excluded.has(token)) this.counts.set(token, (this.counts.get(token) ?? 0) + 1);
  }

  /** The current (decayed) count of a token; 0 when never seen or excluded. */
  count(token: number): number {
    return this.counts.get(token) ?? 0;
  }

  reset(): void {
    this.counts.clear();
  }
}
