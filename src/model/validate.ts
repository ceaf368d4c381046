// Check that a checkpoint holds exactly the tensors an RWKV-7 model of the inferred shape needs,
// with errors that name the tensor and the expected shape.
import type { RwkvConfig } from './config.js';
import type { ShapeMap } from './detect.js';
import { expectedTensors } from './weight-names.js';

export function validateTensors(file: string, config: RwkvConfig, shapes: ShapeMap): void {
  const problems: string[] = [];
  const expected = expectedTensors(config);
  for (const { name, shape } of expected) {
    const got = shapes.get(name);
    if (!got) problems.push(`missing tensor ${name} (expected shape [${shape.join(', ')}])`);
    else if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      problems.push(`tensor ${name} has shape [${got.join(', ')}], expected [${shape.join(', ')}]`);
    }
  }
  const known = new Set(expected.map((t) => t.name));
  const extra = [...shapes.keys()].filter((n) => !known.has(n));
  if (extra.length > 0) {
    problems.push(`unexpected tensors for RWKV-7: ${extra.slice(0, 8).join(', ')}`);
  }
  if (problems.length > 0) {
    const more = problems.length > 10 ? `\n  … and ${problems.length - 10} more` : '';
    throw new Error(
      `${file}: not a valid RWKV-7 checkpoint:\n  ${problems.slice(0, 10).join('\n  ')}${more}`,
    );
  }
}
