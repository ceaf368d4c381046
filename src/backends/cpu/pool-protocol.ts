// The shared-memory protocol between the calling thread and the matmul worker threads. One job
// is one product W · X[0..T); its output rows are cut into blocks that every participant (the
// calling thread included) claims one at a time with compareExchange, so a slow or late worker
// never holds up the others: whoever is free takes the next block.
//
// A job's lifecycle (calling thread):
//   1. write X into the shared input and the job's parameters (MATRIX, T, BLOCK_ROWS)
//   2. DONE ← 0, then open the ticket: TICKET ← nBlocks << 16 (next block 0)
//   3. GEN ← GEN + 1 and notify the sleeping workers
//   4. claim and run blocks like a worker, then sleep on DONE until it equals nBlocks
// A worker reads the parameters only after it has claimed a block: while any block is unfinished
// the calling thread cannot start the next job, so the parameters it reads are the live job's.
import { matmulRows } from './linalg.js';
import type { Matrix } from './weights.js';

/** Int32 slots of the control buffer. */
export const CTRL = {
  /** Job counter; workers sleep on it (Atomics.wait) between jobs. */
  GEN: 0,
  /** (number of blocks << 16) | next unclaimed block. */
  TICKET: 1,
  /** Blocks finished in the current job; the calling thread sleeps on it. */
  DONE: 2,
  /** 1 asks the workers to leave their loop. */
  STOP: 3,
  MATRIX: 4,
  T: 5,
  BLOCK_ROWS: 6,
  /** Blocks run by workers since start (lets tests check the workers really took part). */
  WORKER_BLOCKS: 7,
  /** 1 once a worker hit an exception; its message is in the error bytes. */
  FAILED: 8,
  SIZE: 9,
} as const;

/** Block counts must fit the ticket's upper 15 bits (kept positive in an Int32). */
export const MAX_BLOCKS = 0x7fff;

/** Bytes reserved for the first worker error message (UTF-8). */
export const ERROR_BYTES = 512;

/** Everything a worker needs, passed once as workerData (SharedArrayBuffers are not copied). */
export interface PoolShared {
  ctrl: Int32Array;
  input: Float32Array;
  output: Float32Array;
  error: Uint8Array;
  matrices: Matrix[];
}

/** Takes the next block of the live job, or returns -1 when none is left. */
export function claimBlock(ctrl: Int32Array): number {
  for (;;) {
    const ticket = Atomics.load(ctrl, CTRL.TICKET);
    const next = ticket & 0xffff;
    if (next >= ticket >>> 16) return -1;
    if (Atomics.compareExchange(ctrl, CTRL.TICKET, ticket, ticket + 1) === ticket) return next;
  }
}

/** Computes one claimed block into the shared output and reports it finished. */
export function runBlock(shared: PoolShared, block: number): void {
  const { ctrl } = shared;
  const w = shared.matrices[Atomics.load(ctrl, CTRL.MATRIX)];
  const T = Atomics.load(ctrl, CTRL.T);
  const blockRows = Atomics.load(ctrl, CTRL.BLOCK_ROWS);
  const r0 = block * blockRows;
  const r1 = Math.min(w.rows, r0 + blockRows);
  matmulRows(w, shared.input, shared.output, T, r0, r1);
}

/** Marks one block finished; the participant that finishes the last block wakes the caller. */
export function finishBlock(ctrl: Int32Array): void {
  const done = Atomics.add(ctrl, CTRL.DONE, 1) + 1;
  if (done === Atomics.load(ctrl, CTRL.TICKET) >>> 16) Atomics.notify(ctrl, CTRL.DONE);
}

/**
 * Polls for about 50 µs (4000 loads at ~14 ns measured here) before sleeping: in a decode step
 * the next product usually arrives within that, and a futex wake-up costs tens of µs in a VM.
 * Returns once ctrl[index] no longer holds `value`.
 */
export function waitWhileEqual(ctrl: Int32Array, index: number, value: number): void {
  for (let spin = 0; spin < 4000; spin++) if (Atomics.load(ctrl, index) !== value) return;
  Atomics.wait(ctrl, index, value);
}
