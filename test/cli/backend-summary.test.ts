// The "running on …" line: the backend `auto` took, and on WebGPU the adapter, GEMM kernel and
// step capacity.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Backend } from '../../src/backends/backend.js';
import type { GpuCaps } from '../../src/backends/webgpu/device.js';
import { backendSummary } from '../../src/cli/backend-summary.js';

const gpuBackend = (caps: Partial<GpuCaps>) =>
  ({ device: 'webgpu', caps: { adapterName: 'nvidia h100', ...caps } }) as unknown as Backend;

describe('backendSummary', () => {
  it('names the CPU backend', () => {
    assert.equal(backendSummary({ device: 'cpu' } as Backend), 'cpu');
  });

  it('names the adapter and which GEMM kernel runs on WebGPU', () => {
    assert.equal(
      backendSummary(gpuBackend({ gemm: 'tensor-core', gemmInput: 'split' })),
      'webgpu (nvidia h100; tensor-core GEMM, f32-like)',
    );
    assert.equal(
      backendSummary(gpuBackend({ gemm: 'tensor-core', gemmInput: 'f16' })),
      'webgpu (nvidia h100; tensor-core GEMM, f16 inputs)',
    );
    // Asked for f16 inputs on a GPU without tensor cores: the f32 kernel, and the line says so.
    assert.equal(
      backendSummary(gpuBackend({ gemm: 'f32', gemmInput: 'f16' })),
      'webgpu (nvidia h100; f32 GEMM)',
    );
    // A model the device's tensor cores cannot take (f32 weights, bf16 beyond f16's range): the
    // backend's own kernel wins over the device's choice.
    const f32Model = {
      device: 'webgpu',
      caps: { adapterName: 'nvidia h100', gemm: 'tensor-core', gemmInput: 'split' },
      gemmKernel: 'f32',
    } as unknown as Backend;
    assert.equal(backendSummary(f32Model), 'webgpu (nvidia h100; f32 GEMM)');
  });

  it('gives the step capacity and its activation memory when the backend reports them', () => {
    const backend = {
      device: 'webgpu',
      caps: { adapterName: 'nvidia h100', gemm: 'tensor-core', gemmInput: 'split' },
      stepRows: 2048,
      memory: () => ({ scratch: 516_686_080 }),
    } as unknown as Backend;
    assert.equal(
      backendSummary(backend),
      'webgpu (nvidia h100; tensor-core GEMM, f32-like; 2048-token steps, 493 MiB of scratch)',
    );
  });
});
