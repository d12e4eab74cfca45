/** `import bytes from './x.ts?asc'`: the AssemblyScript file compiled to WebAssembly (scripts/vite-asc.ts). */
declare module '*?asc' {
  const bytes: Uint8Array;
  export default bytes;
  /** The same module compiled for a shared memory (wasm threads; imports `env.memory` as shared). */
  export const shared: Uint8Array;
}
