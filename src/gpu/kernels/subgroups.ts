/**
 * Subgroup variants of kernels (issue 17). A kernel with a subgroup variant keeps ONE shader file; its subgroup
 * variant is the same source with `enable subgroups;` prepended and each of its swappable snippets
 * (shaders/include/*.wgsl, expanded by scripts/wgsl-include.ts) replaced by the snippet's `-sg` twin:
 *   reduce.wgsl  → reduce-sg.wgsl    (workgroup_reduce: subgroupAdd per subgroup, then subgroup 0)
 *   reduce2.wgsl → reduce2-sg.wgsl   (workgroup_reduce2, the same for two accumulators)
 *   topk-select.wgsl → topk-select-sg.wgsl (TopK's digit search by subgroup scans, ballot slot claims)
 * Each pair defines the same functions and an ids struct the entry point takes, so the kernel body is written once.
 *
 * Which variant runs: `subgroups` in a wrapper's options (true: required, throws without the feature; false: never);
 * by default {@link preferSubgroups}: the device has the feature (Gpu.create requests it; it also needs the WGSL
 * `subgroup_id` language feature) and the adapter is a hardware one. On software adapters (SwiftShader: 4-lane
 * subgroups emulated on the CPU) the plain variants stay the default; the bench (`subgroups` suite) measures both.
 */
import reduceWgsl from '../../../shaders/include/reduce.wgsl?raw';
import reduceSgWgsl from '../../../shaders/include/reduce-sg.wgsl?raw';
import reduce2Wgsl from '../../../shaders/include/reduce2.wgsl?raw';
import reduce2SgWgsl from '../../../shaders/include/reduce2-sg.wgsl?raw';
import topkSelectWgsl from '../../../shaders/include/topk-select.wgsl?raw';
import topkSelectSgWgsl from '../../../shaders/include/topk-select-sg.wgsl?raw';
import { softwareAdapterName } from '../../cpu/engine-choice';
import { type Gpu, GpuError, type ShaderSource } from '../device';

/** A snippet swap: the plain snippet's text and its subgroup twin's (both as the include expander inserts them). */
export type SnippetSwap = readonly [plain: string, subgroup: string];

/** The expander inserts a snippet without its final newline. */
const body = (snippet: string) => snippet.replace(/\n$/, '');

export const REDUCE_SWAP: SnippetSwap = [body(reduceWgsl), body(reduceSgWgsl)];
export const REDUCE2_SWAP: SnippetSwap = [body(reduce2Wgsl), body(reduce2SgWgsl)];
export const TOPK_SELECT_SWAP: SnippetSwap = [body(topkSelectWgsl), body(topkSelectSgWgsl)];

/**
 * The subgroup variant of `shader`: `enable subgroups;` and `diagnostic(off, subgroup_uniformity);` + the code with
 * every swap applied; named `<name>+sg`. The diagnostic is off because WGSL's analysis treats subgroup_id and the
 * results of subgroup operations (ballots, broadcasts) as non-uniform, while the -sg snippets only branch on them
 * around subgroup operations — values that are the same on every lane of a subgroup by definition.
 * @throws GpuError naming the shader when one of the plain snippets is not in its code.
 */
export function subgroupVariant(shader: ShaderSource, swaps: readonly SnippetSwap[]): ShaderSource {
  let code = shader.code;
  for (const [plain, sg] of swaps) {
    const at = code.indexOf(plain);
    if (at < 0)
      throw new GpuError(`subgroupVariant(${shader.name}): the shader does not include the snippet to swap`);
    code = code.slice(0, at) + sg + code.slice(at + plain.length);
  }
  return {
    name: `${shader.name}+sg`,
    code: `enable subgroups;\ndiagnostic(off, subgroup_uniformity);\n${code}`,
  };
}

/** Default variant choice: the device has subgroups and the adapter is not a software one. */
export function preferSubgroups(gpu: Gpu): boolean {
  return gpu.adapter.subgroups === true && softwareAdapterName(gpu.adapter) === null;
}

/**
 * Resolve a wrapper's `subgroups` option.
 * @param option true: the subgroup variant (required); false: the plain one; undefined: {@link preferSubgroups}
 * @throws GpuError naming the kernel when `option` is true and the device has no subgroups.
 */
export function subgroupsWanted(gpu: Gpu, kernel: string, option: boolean | undefined): boolean {
  if (option === undefined) return preferSubgroups(gpu);
  if (option && gpu.adapter.subgroups !== true)
    throw new GpuError(
      `${kernel}: the subgroup variant was asked for, but this device has no "subgroups" feature (adapter ` +
        `features: ${gpu.adapter.features.join(', ') || 'none'})`,
    );
  return option;
}
