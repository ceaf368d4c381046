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
// Only the tokens actually generated have a count — a few hundred, against a 65536-token
// vocabulary — so they are kept as a dense list (ids and counts in typed arrays, a Map from id
// to slot): applying and decaying touch just those, in tight loops over typed arrays.

/** Called for each logit the penalty changes, with the value it had before. */
export type LogitChange = (token: number, before: number) => void;

export class RepetitionPenalty {
  private ids = new Int32Array(64);
  private counts = new Float64Array(64);
  private size = 0;
  private readonly slotOf = new Map<number, number>();

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

  /** Subtract the penalties from `logits` in place; `changed` hears of every logit touched. */
  apply(logits: Float64Array, changed?: LogitChange): void {
    if (!this.active) return;
    const { ids, counts } = this;
    for (let j = 0; j < this.size; j++) {
      const count = counts[j];
      if (count > 0) {
        const token = ids[j];
        const before = logits[token];
        logits[token] = before - this.amount(count);
        changed?.(token, before);
      }
    }
  }

  /** Calls `fn` with every penalised token and the amount `apply` would subtract from it. */
  forEachPenalty(fn: (token: number, amount: number) => void): void {
    if (!this.active) return;
    for (let j = 0; j < this.size; j++) {
      const count = this.counts[j];
      if (count > 0) fn(this.ids[j], this.amount(count));
    }
  }

  /** What `apply` subtracts from `token`'s logit; 0 when it leaves it alone. */
  amountFor(token: number): number {
    const count = this.active ? this.count(token) : 0;
    return count > 0 ? this.amount(count) : 0;
  }

  private amount(count: number): number {
    return this.presence + count * this.frequency;
  }

  /** Record that `token` was emitted: decay every count, then count the token once. */
  record(token: number): void {
    const counts = this.counts;
    const decay = this.decay;
    for (let j = 0; j < this.size; j++) counts[j] *= decay;
    if (this.excluded.has(token)) return;
    let slot = this.slotOf.get(token);
    if (slot === undefined) {
      if (this.size === this.ids.length) this.grow();
      slot = this.size++;
      this.slotOf.set(token, slot);
      this.ids[slot] = token;
      this.counts[slot] = 0;
    }
    this.counts[slot] += 1;
  }

  /** The current (decayed) count of a token; 0 when never seen or excluded. */
  count(token: number): number {
    const slot = this.slotOf.get(token);
    return slot === undefined ? 0 : this.counts[slot];
  }

  reset(): void {
    this.slotOf.clear();
    this.size = 0;
  }

  private grow(): void {
    const ids = new Int32Array(this.ids.length * 2);
    ids.set(this.ids);
    const counts = new Float64Array(this.counts.length * 2);
    counts.set(this.counts);
    this.ids = ids;
    this.counts = counts;
  }
}
