/**
 * Gpu.bindGroup's cache on a stand-in device (Node has no WebGPU here; the real dispatch path is exercised by every
 * browser kernel test): the same layout + buffers return the same bind group without a new createBindGroup call,
 * other buffers or another layout make a new one, the oldest is dropped past BIND_GROUP_CACHE_MAX, and a wrong
 * binding count still throws.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BIND_GROUP_CACHE_MAX, Gpu } from './device';

/** A GPUDevice stand-in with just what Gpu.create / pipeline / bindGroup touch; counts createBindGroup calls. */
function fakeGpu() {
  const limits = {
    maxStorageBufferBindingSize: 1 << 27,
    maxBufferSize: 1 << 28,
    maxComputeWorkgroupStorageSize: 16384,
    maxComputeInvocationsPerWorkgroup: 256,
    maxComputeWorkgroupSizeX: 256,
    maxComputeWorkgroupsPerDimension: 65535,
    maxStorageBuffersPerShaderStage: 8,
  };
  const createBindGroup = vi.fn((d: GPUBindGroupDescriptor) => ({ label: d.label }) as GPUBindGroup);
  const device = {
    limits,
    lost: new Promise(() => {}),
    addEventListener: () => {},
    createShaderModule: (d: GPUShaderModuleDescriptor) => ({ label: d.label }),
    createBindGroupLayout: (d: GPUBindGroupLayoutDescriptor) => ({ label: d.label }),
    createPipelineLayout: (d: GPUPipelineLayoutDescriptor) => ({ label: d.label }),
    createComputePipeline: (d: GPUComputePipelineDescriptor) => ({ label: d.label }),
    createBindGroup,
  };
  const adapter = {
    info: { vendor: 'test', architecture: '', device: '', description: 'stand-in' },
    features: new Set<string>(),
    limits,
    requestDevice: async () => device,
  };
  vi.stubGlobal('navigator', { gpu: { requestAdapter: async () => adapter } });
  vi.stubGlobal('GPUShaderStage', { COMPUTE: 4 });
  return { createBindGroup };
}

const buf = (label: string) => ({ label, size: 64 }) as unknown as GPUBuffer;

describe('Gpu.bindGroup cache', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('reuses a group for the same layout and buffers, makes new ones otherwise, evicts the oldest', async () => {
    const { createBindGroup } = fakeGpu();
    const gpu = await Gpu.create({ label: 't' });
    const shader = { name: 'x', code: 'fn main() {}' };
    const p2 = gpu.pipeline(shader, 'a', ['read-only-storage', 'storage']);
    const p2b = gpu.pipeline(shader, 'b', ['read-only-storage', 'storage']);
    const p3 = gpu.pipeline(shader, 'c', ['uniform', 'read-only-storage', 'storage']);
    const [a, b, c, u] = [buf('a'), buf('b'), buf('c'), buf('u')];
    const g1 = gpu.bindGroup(p2, [a, b]);
    expect(gpu.bindGroup(p2, [a, b])).toBe(g1);
    // Another pipeline with the same layout shares the group.
    expect(gpu.bindGroup(p2b, [a, b])).toBe(g1);
    expect(createBindGroup).toHaveBeenCalledTimes(1);
    expect(gpu.bindGroup(p2, [b, a])).not.toBe(g1);
    expect(gpu.bindGroup(p2, [a, c])).not.toBe(g1);
    gpu.bindGroup(p3, [u, a, b]);
    expect(createBindGroup).toHaveBeenCalledTimes(4);
    expect(gpu.bindGroupsCreated).toBe(4);
    // Fill past the cap: the least recently used group (a, b was used last before these) goes first.
    for (let i = 0; i < BIND_GROUP_CACHE_MAX; i++) gpu.bindGroup(p2, [buf(`x${i}`), b]);
    const made = gpu.bindGroupsCreated;
    expect(gpu.bindGroup(p3, [u, a, b])).not.toBeUndefined();
    expect(gpu.bindGroupsCreated).toBe(made + 1);
    expect(() => gpu.bindGroup(p2, [a])).toThrow(/expects 2 bindings, got 1/);
  });
});
