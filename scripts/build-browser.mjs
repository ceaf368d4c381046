// Builds the browser library: one ES module (src/browser.ts and everything it uses) plus the
// WGSL kernels it fetches from beside itself. Usage: node scripts/build-browser.mjs [outDir]
// (default dist/browser). Serve the folder over http(s) — navigator.gpu needs a secure context
// (localhost counts) — and `import { loadModelFromBlob } from './rwkv.js'`.
import { build } from 'esbuild';
import { cp, mkdir, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// Node built-ins that the shared runtime imports for path-based features (Session.save/load by
// file path). In a browser they become functions that fail with a message saying what to use
// instead; nothing else in the bundle reaches them.
const nodeOnly = {
  'node:fs/promises': ['readFile', 'writeFile', 'rename', 'open'],
};

const browserShims = {
  name: 'browser-shims',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => {
      if (!(args.path in nodeOnly)) {
        return {
          errors: [{ text: `${args.path} (imported by ${args.importer}) has no browser shim` }],
        };
      }
      return { path: args.path, namespace: 'node-only' };
    });
    b.onLoad({ filter: /.*/, namespace: 'node-only' }, (args) => ({
      contents: nodeOnly[args.path]
        .map(
          (name) =>
            `export function ${name}() { throw new Error(${JSON.stringify(
              `${name} from ${args.path} is not available in a browser: save and load states ` +
                'with session.toBytes() and Session.fromBytes()',
            )}); }`,
        )
        .join('\n'),
      loader: 'js',
    }));
  },
};

export async function buildBrowser(outDir = resolve(root, 'dist/browser')) {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [resolve(root, 'src/browser.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    outfile: resolve(outDir, 'rwkv.js'),
    sourcemap: true,
    // device.ts imports the Node `webgpu` package only under Node, by a name held in a variable.
    external: ['webgpu'],
    plugins: [browserShims],
    logLevel: 'warning',
  });
  await cp(resolve(root, 'src/backends/webgpu/kernels'), resolve(outDir, 'kernels'), {
    recursive: true,
  });
  return outDir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildBrowser(process.argv[2] ? resolve(process.argv[2]) : undefined);
  console.log(`built ${out}/rwkv.js and ${out}/kernels/`);
}
