// Dawn's instance flags in Node (the `webgpu` package's create(flags)): which toggles the
// backend turns on, merged into the caller's own flags. Browsers take none of this.

/**
 * Toggles the tensor-core GEMM needs: subgroup matrices are an experimental ("unsafe") API, and
 * Dawn hides shader-f16 on NVIDIA's Vulkan driver unless told otherwise (measured on the H100,
 * driver 580: with it the adapter lists f16 16×16×16 matrices).
 */
export const TENSOR_CORE_TOGGLES = ['allow_unsafe_apis', 'vulkan_enable_f16_on_nvidia'];

/**
 * Drops Dawn's bounds clamping of every buffer and workgroup-array index in every kernel. Opt-in
 * only: an out-of-bounds access then is undefined behaviour instead of a clamped read, and no
 * test here can prove the kernels never make one (lavapipe runs with robustness on). Measured
 * on the H100 (bench/RESULTS.md): the tensor-core GEMM was 1.3–1.5× faster without it until its
 * matrix loads' offsets were written so that Dawn can prove them in range (matmul-sgm.wgsl);
 * batch-1 decode gains a few per cent.
 */
export const NO_ROBUSTNESS_TOGGLES = ['disable_robustness'];

/** `flags` with `toggles` merged into (or added as) its enable-dawn-features entry. */
export function withDawnToggles(flags: readonly string[], toggles: readonly string[]): string[] {
  if (toggles.length === 0) return [...flags];
  const key = 'enable-dawn-features=';
  const i = flags.findIndex((f) => f.startsWith(key));
  if (i < 0) return [...flags, key + toggles.join(',')];
  const have = flags[i]
    .slice(key.length)
    .split(',')
    .filter((t) => t);
  const merged = [...have, ...toggles.filter((t) => !have.includes(t))];
  return flags.map((f, j) => (j === i ? key + merged.join(',') : f));
}

/** `flags` with the tensor-core toggles merged in. */
export function withTensorCoreFlags(flags: readonly string[]): string[] {
  return withDawnToggles(flags, TENSOR_CORE_TOGGLES);
}
