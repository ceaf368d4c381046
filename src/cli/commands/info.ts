// `rwkv info <model>`: what a checkpoint is, without loading its weights.
import type { Command } from 'commander';
import { stateFloats } from '../../model/config.js';
import { parameterCount } from '../../model/model-file.js';
import { openModel } from '../../runtime/load.js';

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('print the version, shape, parameter count, dtype and state size of a model')
    .argument('<model>', 'checkpoint (.pth or .safetensors)')
    .option('--json', 'print machine-readable JSON')
    .action(async (path: string, opts: { json?: boolean }) => {
      const model = await openModel(path);
      try {
        const c = model.config;
        const dtypes = [...new Set([...model.checkpoint.tensors.values()].map((t) => t.dtype))];
        const info = {
          file: path,
          format: model.checkpoint.format,
          version: `RWKV-7 (${c.version})`,
          n_layer: c.nLayer,
          n_embd: c.nEmbd,
          n_head: c.nHead,
          head_size: c.headSize,
          vocab_size: c.vocabSize,
          ffn_dim: c.ffnDim,
          lora_ranks: c.lora,
          parameters: parameterCount(model.checkpoint),
          dtype: dtypes.join(', '),
          state_bytes_per_session: stateFloats(c) * 4,
          fingerprint: model.identity.fingerprint,
        };
        if (opts.json) {
          process.stdout.write(JSON.stringify(info, null, 2) + '\n');
          return;
        }
        const lines = [
          ['file', `${info.file} (${info.format})`],
          ['version', info.version],
          ['shape', `${c.nLayer} layers, n_embd ${c.nEmbd}, ${c.nHead} heads × ${c.headSize}`],
          ['vocab', String(c.vocabSize)],
          ['ffn', String(c.ffnDim)],
          [
            'lora ranks',
            `decay ${c.lora.decay}, iclr ${c.lora.iclr}, value ${c.lora.valueResidual}, gate ${c.lora.gate}`,
          ],
          [
            'parameters',
            `${info.parameters.toLocaleString('en-US')} (${formatCount(info.parameters)})`,
          ],
          ['dtype', info.dtype],
          ['state', `${info.state_bytes_per_session.toLocaleString('en-US')} bytes per session`],
          ['fingerprint', info.fingerprint],
        ];
        for (const [k, v] of lines) process.stdout.write(`${k.padEnd(12)} ${v}\n`);
      } finally {
        await model.checkpoint.close();
      }
    });
}

function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  return `${(n / 1e3).toFixed(1)}K`;
}
