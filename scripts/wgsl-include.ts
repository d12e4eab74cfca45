/**
 * WGSL snippets: a line `//#include "name.wgsl"` in a shader of shaders/ is replaced by the text of
 * shaders/include/name.wgsl (recursively; each snippet at most once per shader, the first occurrence wins, so two
 * snippets may include a common one). The same function runs at build time (the Vite plugin below, which serves
 * every `*.wgsl?raw` import resolved) and in Node (tests, tools), so the GPU always compiles resolved code and the
 * pipeline cache key (src/gpu/device.ts hashes the code) covers the snippets.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Plugin } from 'vite';

/** The folder of the snippets. */
export const WGSL_INCLUDE_DIR = resolve(import.meta.dirname, '../shaders/include');

const INCLUDE = /^[ \t]*\/\/#include[ \t]+"([\w.-]+\.wgsl)"[ \t]*$/;

/**
 * Expand the `//#include "x.wgsl"` lines of `code`.
 * @param file the shader's path, for error messages
 * @param read returns a snippet's text by file name (default: read shaders/include/<name>)
 * @returns the code with every include line replaced by its snippet (a line `// #include x.wgsl` marks it)
 * @throws Error naming the shader, the line and the snippet when a snippet is missing or includes itself.
 */
export function expandWgslIncludes(
  code: string,
  file: string,
  read: (name: string) => string = (name) => readFileSync(resolve(WGSL_INCLUDE_DIR, name), 'utf8'),
  seen: Set<string> = new Set(),
  stack: readonly string[] = [],
): string {
  const out: string[] = [];
  const lines = code.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = INCLUDE.exec(lines[i]);
    if (!m) {
      out.push(lines[i]);
      continue;
    }
    const name = m[1];
    if (stack.includes(name)) {
      throw new Error(
        `${file}:${i + 1}: #include "${name}" includes itself (${[...stack, name].join(' → ')})`,
      );
    }
    if (seen.has(name)) continue;
    seen.add(name);
    let text: string;
    try {
      text = read(name);
    } catch (e) {
      throw new Error(`${file}:${i + 1}: #include "${name}": ${(e as Error).message}`);
    }
    out.push(`// #include ${name}`);
    out.push(expandWgslIncludes(text.replace(/\n$/, ''), name, read, seen, [...stack, name]));
  }
  return out.join('\n');
}

/** Read a shader file and expand its includes. @throws Error naming the file (see {@link expandWgslIncludes}). */
export function loadWgsl(path: string): string {
  return expandWgslIncludes(readFileSync(path, 'utf8'), path);
}

/**
 * Vite plugin: `import code from '…/x.wgsl?raw'` yields the shader with its includes expanded (build, dev server,
 * Vitest). Snippets are watched, so editing one reloads the shaders that use it.
 */
export function wgslInclude(): Plugin {
  return {
    name: 'sae-lab:wgsl-include',
    enforce: 'pre',
    load(id) {
      const [path, query] = id.split('?');
      if (!path.endsWith('.wgsl') || query !== 'raw') return null;
      const code = expandWgslIncludes(readFileSync(path, 'utf8'), path, (name) => {
        const snippet = resolve(WGSL_INCLUDE_DIR, name);
        this.addWatchFile(snippet);
        return readFileSync(snippet, 'utf8');
      });
      return `export default ${JSON.stringify(code)};`;
    },
  };
}
