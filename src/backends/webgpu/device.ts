/// <reference types="@webgpu/types" />
// Getting a WebGPU device in Node (the `webgpu` npm package, Dawn) or in a browser
// (navigator.gpu) from one code path, with the features and limits this backend uses.
import { BackendUnusableError } from '../backend.js';
import { NO_ROBUSTNESS_TOGGLES, TENSOR_CORE_TOGGLES, withDawnToggles } from './dawn-flags.js';
import { sgmUnavailable, type SgmInput } from './sgm-gemm.js';

/** What the kernels may rely on, read off the adapter once. */
export interface GpuCaps {
  /** WGSL `subgroups` (subgroupAdd etc.); kernels keep a workgroup-memory fallback. */
  subgroups: boolean;
  subgroupMinSize: number;
  subgroupMaxSize: number;
  /** Largest storage binding (bytes); matrices larger than this are split by rows. */
  maxBinding: number;
  maxBufferSize: number;
  maxWorkgroupStorage: number;
  adapterName: string;
  /** A CPU emulation (lavapipe, SwiftShader): correct but slower than the CPU backend. */
  software: boolean;
  timestamps: boolean;
  /** WGSL `f16` (shader-f16 requested). */
  shaderF16: boolean;
  /** Subgroup matrices with an f16 × f16 → f32 16×16×16 config (feature requested). */
  subgroupMatrixF16: boolean;
  /**
   * Multi-row matrix products: 'tensor-core' (kernels/matmul-sgm.wgsl, for bf16 / f16 weights)
   * when sgm-gemm.ts's gate passes, else 'f32' (kernels/matmul-tiled.wgsl, exact FMA). The
   * device's choice: a model can still keep the f32 kernel (WebGpuBackend.gemmKernel).
   */
  gemm: 'tensor-core' | 'f32';
  /**
   * How the tensor-core kernel takes X (sgm-gemm.ts SgmInput): 'split' (f32-like, the default)
   * or 'f16' (DeviceOptions.gemm = 'f16'). Only meaningful where `gemm` is 'tensor-core'.
   */
  gemmInput: SgmInput;
  /** Dawn's bounds checks are on (the default; DeviceOptions.robustness). */
  robustness: boolean;
}

export interface GpuContext {
  readonly device: GPUDevice;
  readonly caps: GpuCaps;
  /**
   * Await a GPU promise (mapAsync, onSubmittedWorkDone). Dawn in Node does not keep the event
   * loop alive while one is pending (measured: the process exits silently), so a timer is held
   * until it settles.
   */
  wait<T>(p: Promise<T>): Promise<T>;
  /** Throws the first uncaptured GPU error (validation, out of memory) since the last call. */
  throwIfFailed(): void;
  /** Why the device is gone (destroyed or lost), or null while it works. */
  lostError(): GpuDeviceLostError | null;
  destroy(): void;
}

export class NoGpuAdapterError extends Error {
  constructor(detail: string) {
    super(
      `no WebGPU adapter is available (${detail}). On a machine without a GPU install lavapipe ` +
        '(scripts/install-lavapipe.sh) and run with LP_NUM_THREADS=0 and XDG_RUNTIME_DIR set; ' +
        'or use --device cpu',
    );
    this.name = 'NoGpuAdapterError';
  }
}

/**
 * A GPU operation failed because the device is gone: destroyed by its owner (the context or a
 * backend that owned it was disposed) or lost (driver reset, GPU removed, browser tab in the
 * background for too long). Nothing on it can be used again: load the model again.
 */
export class GpuDeviceLostError extends BackendUnusableError {
  constructor(
    readonly reason: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      reason === 'destroyed'
        ? 'the WebGPU device was destroyed (its context or backend was disposed)'
        : `the WebGPU device was lost${detail ? ` (${detail})` : ''}: load the model again ` +
            'to continue',
      options,
    );
    this.name = 'GpuDeviceLostError';
  }
}

/** How long a failed GPU promise waits for the device's `lost` to settle before rethrowing. */
const LOST_GRACE_MS = 100;

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

/** Keeps one GPU entry point per process: Dawn's `create` is costly and holds native threads. */
let nodeGpu: Promise<GPU> | null = null;

async function getGpu(flags: string[]): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (!isNode) {
    if (!nav?.gpu) throw new NoGpuAdapterError('this browser has no navigator.gpu');
    return nav.gpu;
  }
  if (!nodeGpu) {
    nodeGpu = (async () => {
      // The package name is held in a variable so browser bundlers leave the import alone.
      const pkg = 'webgpu';
      let mod: { create(flags: string[]): GPU; globals: object };
      try {
        mod = (await import(pkg)) as typeof mod;
      } catch (err) {
        throw new NoGpuAdapterError(
          `the 'webgpu' package could not be loaded: ${err instanceof Error ? err.message : err}`,
        );
      }
      // GPUBufferUsage and friends are globals in browsers; Dawn exports them separately.
      for (const [k, v] of Object.entries(mod.globals)) {
        if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
      }
      return mod.create(flags);
    })();
  }
  return nodeGpu;
}

function holdWhile<T>(p: Promise<T>): Promise<T> {
  if (!isNode) return p;
  const timer = setInterval(() => {}, 1000);
  return p.finally(() => clearInterval(timer));
}

export interface DeviceOptions {
  powerPreference?: GPUPowerPreference;
  /** Dawn command-line style flags for Node (used when the first context is made). */
  dawnFlags?: string[];
  /** Ignore the subgroups feature (tests of the workgroup-memory fallbacks). */
  noSubgroups?: boolean;
  /** Ask for timestamp queries (profiling) when the adapter has them. */
  timestamps?: boolean;
  /**
   * 'f32' keeps every GEMM on the exact f32 kernel (comparisons, an escape hatch); default
   * 'auto' uses the tensor cores where available, with f32-like results (X split into two f16
   * halves); 'f16' uses them with X rounded to f16 once — faster prefill and batched decode at
   * the precision of fp16 inference (logits ~2e-3 of their std off; sgm-gemm.ts SgmInput).
   * Without tensor cores 'f16' is 'auto'. In Node, RWKV_WEBGPU_GEMM=f32|f16 does the same.
   */
  gemm?: GemmChoice;
  /**
   * false turns Dawn's bounds checks off in every kernel (Node only; dawn-flags.ts says why it
   * is opt-in). In Node, RWKV_WEBGPU_ROBUSTNESS=off does the same.
   */
  robustness?: boolean;
}

/** Whether Dawn's robustness is turned off (option, or RWKV_WEBGPU_ROBUSTNESS=off in Node). */
function robustnessOff(opts: DeviceOptions): boolean {
  if (opts.robustness !== undefined) return !opts.robustness;
  return isNode && process.env.RWKV_WEBGPU_ROBUSTNESS === 'off';
}

export type GemmChoice = 'auto' | 'f32' | 'f16';
const GEMM_CHOICES: readonly GemmChoice[] = ['auto', 'f32', 'f16'];

/** The GEMM choice: the option, else RWKV_WEBGPU_GEMM in Node, else 'auto'. */
function gemmChoice(opts: DeviceOptions): GemmChoice {
  const env = isNode ? process.env.RWKV_WEBGPU_GEMM : undefined;
  const choice = opts.gemm ?? (env || 'auto');
  if (!GEMM_CHOICES.includes(choice as GemmChoice)) {
    const from = opts.gemm !== undefined ? 'gemm option' : 'RWKV_WEBGPU_GEMM';
    throw new Error(`${from} '${choice}': want one of ${GEMM_CHOICES.join(', ')}`);
  }
  return choice as GemmChoice;
}

/** The adapter's f16 × f16 → f32 16×16×16 subgroup-matrix config, if it lists one. */
function hasF16Matrices(adapter: GPUAdapter): boolean {
  const info = adapter.info as GPUAdapterInfo & {
    subgroupMatrixConfigs?: {
      componentType: string;
      resultComponentType: string;
      M: number;
      N: number;
      K: number;
    }[];
  };
  return (info.subgroupMatrixConfigs ?? []).some(
    (c) =>
      c.componentType === 'f16' &&
      c.resultComponentType === 'f32' &&
      c.M === 16 &&
      c.N === 16 &&
      c.K === 16,
  );
}

export async function createGpuContext(opts: DeviceOptions = {}): Promise<GpuContext> {
  const gemm = gemmChoice(opts);
  const forceF32 = gemm === 'f32';
  const gemmInput: SgmInput = gemm === 'f16' ? 'f16' : 'split';
  const flags = opts.dawnFlags ?? [];
  const robust = !robustnessOff(opts);
  const toggles = [
    ...(forceF32 ? [] : TENSOR_CORE_TOGGLES),
    ...(robust ? [] : NO_ROBUSTNESS_TOGGLES),
  ];
  const gpu = await getGpu(withDawnToggles(flags, toggles));
  const adapter = await holdWhile(
    gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' }),
  );
  if (!adapter) throw new NoGpuAdapterError('requestAdapter() returned null');

  const wanted: GPUFeatureName[] = [];
  const subgroups = !opts.noSubgroups && adapter.features.has('subgroups' as GPUFeatureName);
  if (subgroups) wanted.push('subgroups' as GPUFeatureName);
  const timestamps = !!opts.timestamps && adapter.features.has('timestamp-query');
  if (timestamps) wanted.push('timestamp-query');
  const shaderF16 = !forceF32 && subgroups && adapter.features.has('shader-f16');
  const sgmFeature = 'chromium-experimental-subgroup-matrix' as GPUFeatureName;
  const subgroupMatrixF16 =
    shaderF16 && adapter.features.has(sgmFeature) && hasF16Matrices(adapter);
  if (shaderF16) wanted.push('shader-f16');
  if (subgroupMatrixF16) wanted.push(sgmFeature);
  const lim = adapter.limits;
  // Ask for the adapter's maxima of what large models need; defaults (128 MiB bindings, 8
  // storage buffers) are far below what real GPUs offer.
  const requiredLimits: Record<string, number> = {
    maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
    maxBufferSize: lim.maxBufferSize,
    maxStorageBuffersPerShaderStage: lim.maxStorageBuffersPerShaderStage,
    maxComputeWorkgroupStorageSize: lim.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: lim.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: lim.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupsPerDimension: lim.maxComputeWorkgroupsPerDimension,
  };
  const device = await holdWhile(
    adapter.requestDevice({ requiredFeatures: wanted, requiredLimits }),
  );
  const failures: string[] = [];
  device.addEventListener('uncapturederror', (ev) => {
    failures.push((ev as GPUUncapturedErrorEvent).error.message);
  });
  let lost: GPUDeviceLostInfo | null = null;
  device.lost.then((info) => {
    lost = info;
    if (info.reason !== 'destroyed') {
      console.error(`WebGPU device lost: ${info.reason} ${info.message}`);
    }
  });
  // A mapAsync on a device that is gone rejects with a bare AbortError (no message, measured
  // with Dawn): say what happened instead. The device's `lost` may settle just after.
  const wait = async <T>(p: Promise<T>): Promise<T> => {
    try {
      return await holdWhile(p);
    } catch (err) {
      const info =
        lost ??
        (await holdWhile(
          Promise.race([
            device.lost,
            new Promise<null>((resolve) => setTimeout(() => resolve(null), LOST_GRACE_MS)),
          ]),
        ));
      if (info) throw new GpuDeviceLostError(info.reason, info.message, { cause: err });
      throw err;
    }
  };
  const info = adapter.info as GPUAdapterInfo & {
    subgroupMinSize?: number;
    subgroupMaxSize?: number;
  };
  const adapterName = [info.vendor, info.architecture, info.device, info.description]
    .filter((s) => s)
    .join(' ');
  const caps: GpuCaps = {
    subgroups,
    shaderF16,
    subgroupMatrixF16,
    gemm: 'f32',
    gemmInput,
    robustness: robust,
    subgroupMinSize: info.subgroupMinSize ?? 0,
    subgroupMaxSize: info.subgroupMaxSize ?? 0,
    // Keep bindings a multiple of 16 bytes (vec4 elements) and below 2^32.
    maxBinding:
      Math.floor(Math.min(lim.maxStorageBufferBindingSize, lim.maxBufferSize, 2 ** 32 - 16) / 16) *
      16,
    maxBufferSize: lim.maxBufferSize,
    maxWorkgroupStorage: lim.maxComputeWorkgroupStorageSize,
    adapterName,
    timestamps,
    software:
      (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true ||
      /llvmpipe|lavapipe|swiftshader/i.test(adapterName),
  };
  // Decided for 16-bit weights; f32 weights keep the f32 kernel (runner.ts asks again).
  if (sgmUnavailable(caps, 'bf16', gemmInput) === null) caps.gemm = 'tensor-core';
  return {
    device,
    caps,
    wait,
    lostError: () => (lost ? new GpuDeviceLostError(lost.reason, lost.message) : null),
    throwIfFailed: () => {
      if (failures.length > 0) {
        const first = failures[0];
        failures.length = 0;
        throw new Error(`WebGPU error: ${first}`);
      }
    },
    destroy: () => device.destroy(),
  };
}

/** Runs `fn` inside an error scope and throws the first validation/OOM error it raised. */
export async function checked<T>(ctx: GpuContext, what: string, fn: () => T): Promise<T> {
  ctx.device.pushErrorScope('out-of-memory');
  ctx.device.pushErrorScope('validation');
  const out = fn();
  const validation = await ctx.wait(ctx.device.popErrorScope());
  const oom = await ctx.wait(ctx.device.popErrorScope());
  const err = validation ?? oom;
  if (err) throw new Error(`WebGPU: ${what}: ${err.message}`);
  return out;
}
