/** Path of Chromium: $CHROME_PATH, else the first usual system path. @throws Error when none is found. */
export function chromiumPath(): string;
/** Flags that expose WebGPU headless (SwiftShader fallback without a GPU). */
export const chromiumArgs: string[];
