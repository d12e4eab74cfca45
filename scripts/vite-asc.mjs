/**
 * Vite plugin: `import wasm from './assembly/kernels.ts?asc'` compiles that AssemblyScript file with the
 * `assemblyscript` npm package (SIMD on, -O3, stub runtime, imported memory) and yields the WebAssembly binary as a
 * Uint8Array (base64 inlined in the module, so it loads the same in a page, a Worker and Node); the named export
 * `shared` is the same source compiled for a shared memory with wasm threads (src/cpu/threads.ts). Used by the build,
 * the dev server, Vitest and the Node scripts (Vite's module runner), so no compiled output is committed.
 * @throws Error (a build error naming the file and asc's message) when the source does not compile.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';

const SUFFIX = '?asc';
/** Compiled binaries by source hash (asc takes seconds; Vitest loads the module in every test file). */
const CACHE_DIR = resolve(import.meta.dirname, '../node_modules/.cache/sae-lab-asc');
const ASC_OPTIONS = {
  optimizeLevel: 3,
  shrinkLevel: 0,
  runtime: 'stub',
  importMemory: true,
  initialMemory: 1,
  noAssert: true,
  enable: ['simd'],
};
/**
 * The same module on a shared memory (the fast CPU engine's threads, src/cpu/threads.ts): wasm threads on, memory
 * imported as shared with the wasm32 maximum (65,536 pages = 4 GiB, reserved, not committed).
 */
const ASC_SHARED_OPTIONS = {
  ...ASC_OPTIONS,
  sharedMemory: true,
  maximumMemory: 65536,
  enable: ['simd', 'threads'],
};

/**
 * Compile one AssemblyScript file to a wasm binary (cached by source hash).
 * @param {string} file absolute path @returns {Promise<Uint8Array>}
 */
export async function compileAssemblyScript(file, options = ASC_OPTIONS) {
  const asc = (await import('assemblyscript/asc')).default;
  const name = basename(file);
  const source = await readFile(file, 'utf8');
  const hash = createHash('sha256')
    .update(JSON.stringify([source, options, asc.version]))
    .digest('hex')
    .slice(0, 16);
  const cached = resolve(CACHE_DIR, `${name}.${hash}.wasm`);
  try {
    return new Uint8Array(await readFile(cached));
  } catch {
    // not compiled yet
  }
  const result = await asc.compileString({ [name]: source }, options);
  if (result.error || !result.binary) {
    throw new Error(`${file}: AssemblyScript compile failed: ${result.error?.message}\n${result.stderr}`);
  }
  await mkdir(CACHE_DIR, { recursive: true });
  await writeFile(cached, result.binary);
  return result.binary;
}

/** The `?asc` import plugin. @returns {import('vite').Plugin} */
export function assemblyScriptPlugin() {
  return {
    name: 'sae-lab-asc',
    enforce: 'pre',
    async load(id) {
      if (!id.endsWith(SUFFIX)) return null;
      const file = id.slice(0, -SUFFIX.length);
      this.addWatchFile(file);
      const binary = await compileAssemblyScript(file);
      const shared = await compileAssemblyScript(file, ASC_SHARED_OPTIONS);
      const b64 = (bin) => JSON.stringify(Buffer.from(bin).toString('base64'));
      return `function bytes(s) {\n  const b = atob(s);\n  const u = new Uint8Array(b.length);\n  for (let i = 0; i < b.length; i++) u[i] = b.charCodeAt(i);\n  return u;\n}\nexport default bytes(${b64(binary)});\nexport const shared = bytes(${b64(shared)});\n`;
    },
  };
}
