// Loads the WGSL kernels (kernels/*.wgsl, next to this file or next to a bundle that copied the
// folder) and expands their small template language:
//   {{NAME}}                  replaced by defines[NAME] (missing → error)
//   //#if NAME / //#else / //#endif   keep lines when defines[NAME] is truthy (nesting allowed)
//   //#include FILE           the text of kernels/FILE.wgsl (expanded with the same defines)
// Kernels are plain WGSL otherwise, so they read (and lint) as WGSL.

export type Defines = Record<string, string | number | boolean>;

const isNode = typeof process !== 'undefined' && !!process.versions?.node;
const cache = new Map<string, Promise<string>>();

function kernelUrl(name: string): URL {
  return new URL(`./kernels/${name}.wgsl`, import.meta.url);
}

async function readKernel(name: string): Promise<string> {
  let p = cache.get(name);
  if (!p) {
    p = (async () => {
      const url = kernelUrl(name);
      if (isNode) {
        const fs = 'node:fs/promises';
        const { readFile } = (await import(fs)) as typeof import('node:fs/promises');
        try {
          return await readFile(url, 'utf8');
        } catch (err) {
          throw new Error(`WGSL kernel ${name}.wgsl not found at ${url.pathname}: ${err}`);
        }
      }
      const res = await fetch(url);
      if (!res.ok) throw new Error(`WGSL kernel ${name}.wgsl: HTTP ${res.status} from ${url}`);
      return res.text();
    })();
    cache.set(name, p);
  }
  return p;
}

export async function loadKernel(name: string, defines: Defines): Promise<string> {
  return expand(name, await readKernel(name), defines, new Set([name]));
}

async function expand(
  name: string,
  text: string,
  defines: Defines,
  seen: Set<string>,
): Promise<string> {
  const out: string[] = [];
  // One entry per open #if: whether its current branch emits.
  const stack: { on: boolean }[] = [];
  const emitting = () => stack.every((s) => s.on);
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    const directive = /^\s*\/\/#(\w+)\s*(\S*)/.exec(line);
    if (directive) {
      const [, kind, arg] = directive;
      if (kind === 'if') {
        if (!(arg in defines)) throw new Error(`${name}.wgsl:${n + 1}: #if ${arg} is not defined`);
        stack.push({ on: !!defines[arg] });
        continue;
      }
      if (kind === 'else' || kind === 'endif') {
        const top = stack[stack.length - 1];
        if (!top) throw new Error(`${name}.wgsl:${n + 1}: #${kind} without #if`);
        if (kind === 'else') top.on = !top.on;
        else stack.pop();
        continue;
      }
      if (kind === 'include') {
        if (!emitting()) continue;
        if (seen.has(arg)) throw new Error(`${name}.wgsl:${n + 1}: recursive #include ${arg}`);
        const inner = await expand(arg, await readKernel(arg), defines, new Set([...seen, arg]));
        out.push(inner);
        continue;
      }
      throw new Error(`${name}.wgsl:${n + 1}: unknown directive #${kind}`);
    }
    if (!emitting()) continue;
    out.push(
      line.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
        if (!(key in defines)) throw new Error(`${name}.wgsl:${n + 1}: {{${key}}} is not defined`);
        return String(defines[key]);
      }),
    );
  }
  if (stack.length > 0) throw new Error(`${name}.wgsl: #if without #endif`);
  return out.join('\n');
}
