import { describe, expect, it } from 'vitest';
import { MemoryCheckpointStore } from '../train/checkpoint';
import { deleteRunWeights } from './delete-run';
import type { RunMeta } from './library';

/** A run library in memory over `checkpoints` (RunLibrary's delete: its keys, then the checkpoint). */
function memoryLibrary(checkpoints: MemoryCheckpointStore, ids: string[]) {
  const metas = new Map(ids.map((id) => [id, { id } as RunMeta]));
  return {
    metas,
    async meta(id: string) {
      return metas.get(id);
    },
    async delete(id: string) {
      metas.delete(id);
      await checkpoints.remove(id);
    },
  };
}

describe('deleteRunWeights', () => {
  it('deletes a library run with its weights, never the weights alone', async () => {
    const checkpoints = new MemoryCheckpointStore();
    const removed: string[] = [];
    const remove = checkpoints.remove.bind(checkpoints);
    checkpoints.remove = async (id) => {
      removed.push(id);
      return remove(id);
    };
    const library = memoryLibrary(checkpoints, ['r1']);
    expect(await deleteRunWeights(library, checkpoints, 'r1')).toBe('run');
    expect(library.metas.has('r1')).toBe(false);
    expect(removed).toEqual(['r1']);
  });
  it('deletes only the checkpoint of a run the library does not hold', async () => {
    const checkpoints = new MemoryCheckpointStore();
    const library = memoryLibrary(checkpoints, ['other']);
    const removed: string[] = [];
    checkpoints.remove = async (id) => {
      removed.push(id);
    };
    expect(await deleteRunWeights(library, checkpoints, 'old')).toBe('checkpoint');
    expect(removed).toEqual(['old']);
    expect([...library.metas.keys()]).toEqual(['other']);
  });
});
