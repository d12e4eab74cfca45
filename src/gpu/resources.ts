/**
 * A resource set: creates, labels and destroys a group of GPU objects (buffers and kernels) in one place, so an
 * owner (e.g. GpuSaeEngine) never lists its buffers a second time in destroy(). Destruction is in reverse order of
 * creation and idempotent.
 */
import type { Gpu } from './device';

/** Anything with a destroy() (a GPUBuffer, a kernel wrapper, another resource set). */
export interface Destroyable {
  destroy(): void;
}

/** The GPU objects of one owner. */
export class GpuResources {
  private readonly owned: Destroyable[] = [];

  constructor(private readonly gpu: Gpu) {}

  /**
   * A labelled storage buffer of `byteSizeOrData` bytes (zeroed) or holding a copy of the data; owned by this set.
   * @throws GpuError when it exceeds a device limit (see Gpu.storage).
   */
  storage(label: string, byteSizeOrData: number | ArrayBufferView): GPUBuffer {
    return this.own(this.gpu.storage(label, byteSizeOrData));
  }

  /** Take ownership of `thing` (a kernel made with its own label): it is destroyed with this set. */
  own<T extends Destroyable>(thing: T): T {
    this.owned.push(thing);
    return thing;
  }

  /** Destroy everything owned, newest first. Safe to call twice. */
  destroy(): void {
    for (const thing of this.owned.splice(0).reverse()) thing.destroy();
  }
}
