// Stop strings over a stream of decoded text. A stop string may arrive split over several
// tokens, so text that could be the beginning of a stop string is held back until the next
// pieces either complete it (then generation stops and the stop string is never emitted) or
// rule it out (then the held text is released).
//
// Invariant: everything emitted so far contains no stop string and no emitted suffix could
// still grow into one — the held text is the longest suffix of the pending text that is a
// proper prefix of some stop string.

export interface StopScan {
  /** Text that is safe to show now. */
  emit: string;
  /** The stop string found, or null. */
  stop: string | null;
  /** When stopped: text that arrived after the stop string's end (never emitted). */
  overflow: string;
}

export class StopStringMatcher {
  private held = '';
  private readonly stops: string[];

  constructor(stops: Iterable<string> = []) {
    this.stops = [...new Set(stops)];
    for (const s of this.stops) {
      if (typeof s !== 'string' || s.length === 0)
        throw new Error('stop strings must be non-empty');
    }
  }

  get enabled(): boolean {
    return this.stops.length > 0;
  }

  /** Text currently held back. */
  get pending(): string {
    return this.held;
  }

  /** Feed the next decoded text. After a stop has been reported, do not push again. */
  push(text: string): StopScan {
    if (this.stops.length === 0) return { emit: text, stop: null, overflow: '' };
    const buf = this.held + text;

    // Earliest occurrence of any stop string; on equal starts the shortest, so the stream
    // ends as early as possible.
    let at = -1;
    let found: string | null = null;
    for (const s of this.stops) {
      const i = buf.indexOf(s);
      if (i < 0) continue;
      if (at < 0 || i < at || (i === at && found !== null && s.length < found.length)) {
        at = i;
        found = s;
      }
    }
    if (found !== null) {
      this.held = '';
      return { emit: buf.slice(0, at), stop: found, overflow: buf.slice(at + found.length) };
    }

    const hold = this.longestPrefixSuffix(buf);
    this.held = buf.slice(buf.length - hold);
    return { emit: buf.slice(0, buf.length - hold), stop: null, overflow: '' };
  }

  /** End of stream without a stop: release what was held. */
  flush(): string {
    const out = this.held;
    this.held = '';
    return out;
  }

  /** Length of the longest suffix of `buf` that is a proper prefix of a stop string. */
  private longestPrefixSuffix(buf: string): number {
    let best = 0;
    for (const s of this.stops) {
      for (let len = Math.min(s.length - 1, buf.length); len > best; len--) {
        if (buf.endsWith(s.slice(0, len))) {
          best = len;
          break;
        }
      }
    }
    return best;
  }
}
