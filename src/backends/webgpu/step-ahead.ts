// Records a decoding step's commands while the GPU is still running the previous step.
// Measured on the H100 box (2.9B, 163 dispatches): recording a step costs 0.6–1.2 ms of CPU
// and submitting it 0.25–0.5 ms, against 3.6 ms of GPU time. A loop that reads every token
// back before it can feed the next one (Backend.forward under the runtime's sampler, or
// GpuSessions.step with top-k) left the GPU idle for all of that. Recording does not depend on
// the token (inputs are written to the step buffers apart, runner.writeStep), so after
// submitting a step the same-shaped next one is recorded while the GPU works, and is submitted
// as soon as its token is known. Nothing runs on the GPU ahead of time: the state advances only
// by the steps the caller asked for.
import type { Runner, StepSequence, StepShape } from './runner.js';

export class StepAhead {
  private spare: { key: string; commands: GPUCommandBuffer } | null = null;
  /** Steps that were submitted from a spare (tests check the path is taken). */
  reused = 0;

  constructor(private readonly runner: Runner) {}

  /** The recorded commands fit a step of this shape while the pool's buffers stay the same. */
  private key(shape: StepShape): string {
    return `${shape.M}|${shape.nSeq}|${shape.nOut}|${this.runner.pool.generation}`;
  }

  /**
   * Writes the step's inputs and returns its commands, to be submitted before anything else
   * is recorded with the runner: the spare when one of this shape was prepared, else new ones.
   */
  async commands(
    seqs: readonly StepSequence[],
  ): Promise<{ commands: GPUCommandBuffer; shape: StepShape }> {
    const shape = this.runner.writeStep(seqs);
    const spare = this.spare;
    this.spare = null;
    if (spare && spare.key === this.key(shape)) {
      this.reused++;
      return { commands: spare.commands, shape };
    }
    const enc = this.runner.device.createCommandEncoder();
    await this.runner.recordStep(enc, shape);
    return { commands: enc.finish(), shape };
  }

  /**
   * Records a step of `shape` for the next `commands` call. Worth it for decoding steps (one
   * token per sequence), whose successor usually has the same shape; call it after submitting,
   * while the GPU is busy. An unused spare is dropped (never submitted).
   */
  async prepare(shape: StepShape): Promise<void> {
    const enc = this.runner.device.createCommandEncoder();
    await this.runner.recordStep(enc, shape);
    this.spare = { key: this.key(shape), commands: enc.finish() };
  }
}
