import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import activationWgsl from '../shaders/activation.wgsl?raw';
import viteConfig from '../vite.config';
import { expandWgslIncludes, loadWgsl, WGSL_INCLUDE_DIR } from './wgsl-include';

const SHADERS = resolve(import.meta.dirname, '../shaders');
const shaderFiles = readdirSync(SHADERS).filter((f) => f.endsWith('.wgsl'));

describe('WGSL //#include', () => {
  it('expands every shader: no include line left, each helper defined exactly once where it is used', () => {
    const helpers = ['linear_id', 'order_key', 'workgroup_sum', 'workgroup_sum2'];
    let expandedSomething = 0;
    for (const f of shaderFiles) {
      const raw = readFileSync(resolve(SHADERS, f), 'utf8');
      const code = loadWgsl(resolve(SHADERS, f));
      expect(code, f).not.toMatch(/^\s*\/\/#include/m);
      if (code !== raw) expandedSomething++;
      for (const h of helpers) {
        const defs = code.match(new RegExp(`\\bfn ${h}\\(`, 'g'))?.length ?? 0;
        const uses = code.match(new RegExp(`\\b${h}\\(`, 'g'))?.length ?? 0;
        expect(defs, `${f}: fn ${h}`).toBeLessThanOrEqual(1);
        if (uses > defs) expect(defs, `${f} calls ${h} without defining it`).toBe(1);
      }
    }
    expect(expandedSomething).toBeGreaterThanOrEqual(12);
  });

  it('each helper exists once in the tree: only in shaders/include/', () => {
    for (const h of ['linear_id', 'order_key', 'workgroup_sum']) {
      const owners = shaderFiles.filter((f) =>
        new RegExp(`\\bfn ${h}\\(`).test(readFileSync(resolve(SHADERS, f), 'utf8')),
      );
      expect(owners, h).toEqual([]);
    }
    // The -sg snippets are the subgroup twins swapped in by src/gpu/kernels/subgroups.ts (with ballot.wgsl).
    expect(readdirSync(WGSL_INCLUDE_DIR).sort()).toEqual([
      'ballot.wgsl',
      'linear_id.wgsl',
      'order_key.wgsl',
      'reduce-sg.wgsl',
      'reduce.wgsl',
      'reduce2-sg.wgsl',
      'reduce2.wgsl',
      'topk-select-sg.wgsl',
      'topk-select.wgsl',
    ]);
  });

  it('the Vite plugin serves ?raw imports expanded (what the GPU compiles and the pipeline cache hashes)', () => {
    expect(activationWgsl).toBe(loadWgsl(resolve(SHADERS, 'activation.wgsl')));
    expect(activationWgsl).toMatch(/fn linear_id\(/);
  });

  it('the plugin is in the page bundle and in the Worker bundles (the kernels run in Workers)', async () => {
    const names = (list: unknown) => (list as { name: string }[]).flat().map((p) => p.name);
    expect(names(viteConfig.plugins)).toContain('sae-lab:wgsl-include');
    const workerPlugins = viteConfig.worker?.plugins;
    expect(typeof workerPlugins).toBe('function');
    expect(names(await (workerPlugins as () => unknown)())).toContain('sae-lab:wgsl-include');
  });

  it('includes a snippet once, recursively, and names the shader and line of a missing or cyclic include', () => {
    const snippets: Record<string, string> = {
      'a.wgsl': '//#include "c.wgsl"\nfn a() {}',
      'b.wgsl': '//#include "c.wgsl"\nfn b() {}',
      'c.wgsl': 'fn c() {}\n',
      'loop.wgsl': '//#include "loop.wgsl"',
    };
    const read = (n: string) => {
      const t = snippets[n];
      if (t === undefined) throw new Error('no such snippet');
      return t;
    };
    const out = expandWgslIncludes('//#include "a.wgsl"\n//#include "b.wgsl"\nfn main() {}', 'x.wgsl', read);
    expect(out.match(/fn c\(\)/g)).toHaveLength(1);
    expect(out).toMatch(/fn a\(\) \{\}[\s\S]*fn b\(\) \{\}[\s\S]*fn main/);
    expect(() => expandWgslIncludes('fn f() {}\n//#include "nope.wgsl"', 'x.wgsl', read)).toThrow(
      'x.wgsl:2: #include "nope.wgsl": no such snippet',
    );
    expect(() => expandWgslIncludes('//#include "loop.wgsl"', 'x.wgsl', read)).toThrow(/includes itself/);
  });
});
