// Paths and temp files shared by the io tests.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(fileURLToPath(new URL('../../../', import.meta.url)));

/** Read-only reference models (shared/ sits beside the checkout). */
export const FIXTURES = resolve(repoRoot, '../shared/fixtures/rwkv7');
export const FIXTURE_MODELS = ['tiny-a', 'tiny-fp16', 'tiny-world'];

/** A temp folder for one test file; `cleanup` removes it. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'rwkv-ts-io-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

let counter = 0;

/** Writes bytes to a fresh file in `dir` and returns its path. */
export async function tempFile(dir: string, bytes: Uint8Array, name = 'f'): Promise<string> {
  const path = join(dir, `${counter++}-${name}`);
  await writeFile(path, bytes);
  return path;
}
