/**
 * The peer table of a browser bench document (scripts/bench.mjs): per step shape, our figures next to the TF.js
 * peer on the same adapter (suite `peer`), each with its ratio (ours ÷ peer; < 1: ours faster). Rows appear only for
 * the suites that ran in this one run; a missing figure stays out rather than being estimated.
 *   wgsl_step_ms        suite `step` (WGSL engine on this adapter) ÷ tfjs_webgpu_step_ms
 *   wgsl_encoder_ms     suite `step`'s encoder matmul ÷ TF.js webgpu's matmul at the same M×N×K
 *   cpu_step_ms         suite `cpu-step`, the fast CPU engine as the app runs it (threads where allowed) ÷ tfjs_wasm_step_ms
 *   cpu_encoder_ms      its wasm encoder matmul ÷ TF.js wasm's matmul
 * @param {Record<string, any>} suites the document's `suites`
 * @returns {Record<string, any>[]}
 */
export function peerTable(suites) {
  const key = (s) => `${s.d_model ?? s.dModel}/${s.d_sae ?? s.dSae}/${s.k}/${s.batch ?? s.batchSize}`;
  const rows = new Map();
  const row = (shape) => {
    const k = key(shape);
    if (!rows.has(k)) rows.set(k, { shape: k });
    return rows.get(k);
  };
  const r3 = (x) => Number(x.toPrecision(3));
  for (const r of Array.isArray(suites.step) ? suites.step : []) {
    Object.assign(row(r.shape), { wgsl_step_ms: r.step_median_ms, wgsl_encoder_ms: r.encoder_median_ms });
  }
  for (const r of Array.isArray(suites['cpu-step']) ? suites['cpu-step'] : []) {
    const o = row(r.shape);
    if (r.engine === 'wasm-cpu')
      Object.assign(o, {
        cpu_step_ms: r3(r.stepMs),
        cpu_encoder_ms: r3(r.encoderMs),
        cpu_threads: r.threads,
      });
    if (r.engine === 'wasm-cpu-1thread') o.cpu_1thread_step_ms = r3(r.stepMs);
    if (r.engine === 'oracle') o.oracle_step_ms = r3(r.stepMs);
  }
  const peer = suites.peer ?? {};
  for (const [name, list] of Object.entries(peer)) {
    if (!Array.isArray(list)) continue;
    for (const r of list)
      Object.assign(row(r.shape), {
        [`${name}_step_ms`]: r3(r.stepMs),
        [`${name}_matmul_ms`]: r3(r.matmulMs),
      });
  }
  const ratio = (a, b) => (a > 0 && b > 0 ? r3(a / b) : undefined);
  for (const o of rows.values()) {
    o.wgsl_step_over_tfjs_webgpu = ratio(o.wgsl_step_ms, o.tfjs_webgpu_step_ms);
    o.wgsl_encoder_over_tfjs_webgpu_matmul = ratio(o.wgsl_encoder_ms, o.tfjs_webgpu_matmul_ms);
    o.cpu_step_over_tfjs_wasm = ratio(o.cpu_step_ms, o.tfjs_wasm_step_ms);
    o.cpu_encoder_over_tfjs_wasm_matmul = ratio(o.cpu_encoder_ms, o.tfjs_wasm_matmul_ms);
    o.cpu_step_over_wgsl_step = ratio(o.cpu_step_ms, o.wgsl_step_ms);
    o.cpu_step_over_1thread = ratio(o.cpu_step_ms, o.cpu_1thread_step_ms);
    for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  }
  return [...rows.values()];
}
