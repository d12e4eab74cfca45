import { describe, expect, it } from 'vitest';
import type { AdapterSummary } from '../gpu/device';
import { chooseEngine, engineOverrideFromSearch, probeAdapter, softwareAdapterName } from './engine-choice';

const limits = {
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupStorageSize: 16384,
  maxComputeWorkgroupsPerDimension: 65535,
  maxStorageBufferBindingSize: 2 ** 27,
  maxBufferSize: 2 ** 28,
  maxStorageBuffersPerShaderStage: 8,
};
const adapter = (a: Partial<AdapterSummary>): AdapterSummary => ({
  vendor: '',
  architecture: '',
  device: '',
  description: '',
  isFallbackAdapter: false,
  features: [],
  limits,
  ...a,
});

describe('engine choice', () => {
  it('recognises software adapters by flag or name', () => {
    expect(softwareAdapterName(adapter({ vendor: 'google', architecture: 'swiftshader' }))).toBe(
      'swiftshader',
    );
    expect(softwareAdapterName(adapter({ description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }))).toBe(
      'llvmpipe',
    );
    expect(softwareAdapterName(adapter({ description: 'Microsoft Basic Render Driver' }))).toMatch(/basic/i);
    expect(softwareAdapterName(adapter({ isFallbackAdapter: true }))).toBe('a fallback adapter');
    expect(softwareAdapterName(adapter({ vendor: 'nvidia', architecture: 'hopper' }))).toBeNull();
  });

  it('GPU on hardware, CPU on software or without WebGPU; the override wins', () => {
    const hw = { adapter: adapter({ vendor: 'nvidia', architecture: 'hopper' }) };
    const sw = {
      adapter: adapter({ vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true }),
    };
    const none = { error: 'navigator.gpu is missing' };
    expect(chooseEngine(hw, 'auto', 5).engine).toBe('gpu');
    expect(chooseEngine(sw, 'auto', 5)).toMatchObject({ engine: 'cpu', available: true });
    expect(chooseEngine(sw, 'auto', 5).reason).toContain('swiftshader');
    expect(chooseEngine(none, 'auto', 5)).toMatchObject({ engine: 'cpu', available: true });
    expect(chooseEngine(none, 'auto', 5).reason).toContain('navigator.gpu is missing');
    expect(chooseEngine(sw, 'gpu', 5)).toMatchObject({ engine: 'gpu', available: true });
    expect(chooseEngine(hw, 'cpu', 5)).toMatchObject({ engine: 'cpu', available: true });
    expect(chooseEngine(none, 'gpu', 5)).toMatchObject({ engine: 'gpu', available: false });
  });

  it('reads ?engine= from the URL', () => {
    expect(engineOverrideFromSearch('?engine=cpu')).toBe('cpu');
    expect(engineOverrideFromSearch('?x=1&engine=gpu')).toBe('gpu');
    expect(engineOverrideFromSearch('?engine=fast')).toBe('auto');
    expect(engineOverrideFromSearch('')).toBe('auto');
  });

  it('the probe gives up after its timeout and reports errors', async () => {
    const never = () => new Promise<AdapterSummary>(() => {});
    const t0 = Date.now();
    expect(await probeAdapter(never, 50)).toEqual({ error: 'no WebGPU adapter within 50 ms' });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await probeAdapter(() => Promise.reject(new Error('boom')), 50)).toEqual({ error: 'boom' });
    const a = adapter({ vendor: 'x' });
    expect(await probeAdapter(() => Promise.resolve(a), 50)).toEqual({ adapter: a });
  });
});
