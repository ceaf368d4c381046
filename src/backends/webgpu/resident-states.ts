// Keeps the states that the WebGPU backend advanced in pool slots between calls, so that a
// session decoding token by token moves no state over the bus (21.6 MB each way per token for
// a 2.9B model otherwise). A state's slot is current while the state's version is the one the
// backend recorded: any CPU access to `state.data` changes the version, and the next call
// uploads again. After a step the newest data is only in the slot; the state says so
// (RwkvState.markOnDevice) and copies it back when the CPU asks for it (state.sync()).
//
// Slots are bounded: past `limit` resident states, the least recently used one is copied back
// to its CPU buffer and its slot freed. A state that is garbage-collected frees its slot too.
import type { RwkvState } from '../../runtime/state.js';
import type { StatePool } from './state-pool.js';

interface Resident {
  slot: number;
  /** state.version when the slot last matched the state's data. */
  version: number;
  lastUse: number;
  readonly state: WeakRef<RwkvState>;
}

export interface ResidentStatesOptions {
  pool: StatePool;
  /** Copies a slot into a CPU buffer (runs inside the backend's serial queue). */
  download: (slot: number, into: Float32Array) => Promise<void>;
  /** Runs `fn` in the backend's serial queue (for copies the CPU asks for between calls). */
  serial: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Most states kept resident (a single call may exceed it: its own states all stay). */
  limit: number;
}

export class ResidentStates {
  private readonly byState = new WeakMap<RwkvState, Resident>();
  private readonly live = new Set<Resident>();
  private readonly collected = new FinalizationRegistry<Resident>((r) => this.drop(r));
  private clock = 0;
  /** States copied to the GPU so far (a resident state that the CPU left alone costs none). */
  uploads = 0;

  constructor(private readonly o: ResidentStatesOptions) {}

  get count(): number {
    return this.live.size;
  }

  /**
   * The slot that holds `state`'s newest data, uploading it when the slot is missing or out of
   * date. `batch` are the states of the same call: they are never evicted to make room.
   */
  async acquire(state: RwkvState, batch: ReadonlySet<RwkvState>): Promise<number> {
    let r = this.byState.get(state);
    if (r && r.version === state.version) {
      r.lastUse = ++this.clock;
      return r.slot;
    }
    // Newest data on another device (ours would have matched above): bring it here first.
    await state.sync();
    if (!r) {
      const slot = await this.allocate(batch);
      r = { slot, version: -1, lastUse: 0, state: new WeakRef(state) };
      this.byState.set(state, r);
      this.live.add(r);
      this.collected.register(state, r, r);
    }
    // A new slot is already cleared (StatePool.alloc); an old one holding a stale copy is
    // cleared on the GPU too: a zero state needs no floats from the CPU.
    if (state.isZero) {
      if (r.version !== -1) this.o.pool.zero(r.slot);
    } else {
      this.o.pool.write(r.slot, state.peek());
      this.uploads++;
    }
    r.version = state.version;
    r.lastUse = ++this.clock;
    return r.slot;
  }

  /** After a step advanced `state` in its slot: the newest data is now only on the GPU. */
  advanced(state: RwkvState): void {
    const r = this.byState.get(state);
    if (!r) throw new Error('advanced: the state has no slot');
    state.markOnDevice({
      pull: (into) => this.o.serial(() => this.copyBack(state, into)),
    });
    r.version = state.version;
  }

  /**
   * The call that was advancing these states failed part-way: their slots may hold anything.
   * The CPU copies are kept as they were (a state whose newest data was only in its slot gets
   * what the slot holds) and the slots are freed.
   */
  async abandon(states: readonly RwkvState[]): Promise<void> {
    for (const s of states) {
      const r = this.byState.get(s);
      if (!r) continue;
      await s.settleWith((into) => this.o.download(r.slot, into)).catch(() => {});
      this.forget(s, r);
    }
  }

  /** Copies every state whose newest data is on the GPU back to the CPU, and frees all slots. */
  async flushAll(): Promise<void> {
    for (const r of [...this.live]) {
      const s = r.state.deref();
      if (s) {
        await s.settleWith((into) => this.o.download(r.slot, into));
        this.forget(s, r);
      } else this.drop(r);
    }
  }

  private async copyBack(state: RwkvState, into: Float32Array): Promise<void> {
    const r = this.byState.get(state);
    if (!r) throw new Error('the GPU copy of this state is gone (the backend was disposed?)');
    await this.o.download(r.slot, into);
  }

  /** A free slot, evicting least recently used states (not in `batch`) past the limit. */
  private async allocate(batch: ReadonlySet<RwkvState>): Promise<number> {
    const pool = this.o.pool;
    while (this.live.size >= this.o.limit || pool.slotsInUse >= pool.maxCapacity) {
      if (!(await this.evictOne(batch))) break;
    }
    return pool.alloc();
  }

  private async evictOne(batch: ReadonlySet<RwkvState>): Promise<boolean> {
    let oldest: Resident | null = null;
    for (const r of this.live) {
      const s = r.state.deref();
      if (s && batch.has(s)) continue;
      if (!oldest || r.lastUse < oldest.lastUse) oldest = r;
    }
    if (!oldest) return false;
    const s = oldest.state.deref();
    if (s) {
      const slot = oldest.slot;
      await s.settleWith((into) => this.o.download(slot, into));
      this.forget(s, oldest);
    } else this.drop(oldest);
    return true;
  }

  private forget(state: RwkvState, r: Resident): void {
    this.byState.delete(state);
    this.drop(r);
  }

  private drop(r: Resident): void {
    if (!this.live.delete(r)) return;
    this.collected.unregister(r);
    this.o.pool.release(r.slot);
  }
}
