import type { Plugin } from 'vite';
/** Compile one AssemblyScript file to a wasm binary (cached by source hash). @param file absolute path */
export function compileAssemblyScript(file: string, options?: Record<string, unknown>): Promise<Uint8Array>;
/** The `?asc` import plugin (scripts/vite-asc.mjs). */
export function assemblyScriptPlugin(): Plugin;
