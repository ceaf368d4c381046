// A matmul worker thread: sleeps on the job counter, then claims and runs blocks of output rows
// until the job has none left (protocol in pool-protocol.ts). Started by MatmulPool.
import { parentPort } from 'node:worker_threads';
import {
  CTRL,
  claimBlock,
  finishBlock,
  runBlock,
  waitWhileEqual,
  type PoolShared,
} from './pool-protocol.js';

function recordFailure(shared: PoolShared, err: unknown): void {
  if (Atomics.compareExchange(shared.ctrl, CTRL.FAILED, 0, 1) !== 0) return; // keep the first
  const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
  new TextEncoder().encodeInto(text, shared.error);
}

/** Runs jobs until asked to stop; blocks this thread's event loop, which it no longer needs. */
function serve(shared: PoolShared): void {
  const { ctrl } = shared;
  let seen = Atomics.load(ctrl, CTRL.GEN);
  for (;;) {
    // Returns at once if a job was published after `seen` was read, so no wake-up is lost.
    waitWhileEqual(ctrl, CTRL.GEN, seen);
    if (Atomics.load(ctrl, CTRL.STOP) === 1) return;
    seen = Atomics.load(ctrl, CTRL.GEN);
    for (let block = claimBlock(ctrl); block >= 0; block = claimBlock(ctrl)) {
      try {
        runBlock(shared, block);
      } catch (err) {
        recordFailure(shared, err);
      }
      Atomics.add(ctrl, CTRL.WORKER_BLOCKS, 1);
      finishBlock(ctrl);
    }
  }
}

// The pool posts the shared buffers once, when the weights are loaded.
parentPort!.once('message', (shared: PoolShared) => {
  parentPort!.postMessage('ready');
  serve(shared);
});
