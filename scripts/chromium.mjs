// Where Chromium is and how to start it with WebGPU. Shared by playwright.config.ts and scripts/bench.mjs.
// No test tool downloads its own browser: we use Debian's `chromium` (or $CHROME_PATH).
import { existsSync } from 'node:fs';

const CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/snap/bin/chromium',
];

/**
 * Path of a Chromium/Chrome executable: $CHROME_PATH if set, else the first usual system path that exists.
 * @returns {string}
 * @throws {Error} when none is found, saying how to install one.
 */
export function chromiumPath() {
  const env = process.env.CHROME_PATH;
  if (env) {
    if (!existsSync(env)) throw new Error(`CHROME_PATH=${env} does not exist`);
    return env;
  }
  const found = CANDIDATES.find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      `No Chromium found (looked in ${CANDIDATES.join(', ')}). Install it (Debian: apt-get install chromium) ` +
        'or set CHROME_PATH.',
    );
  }
  return found;
}

/** Flags that expose WebGPU (the SwiftShader fallback adapter on machines without a GPU) headless. */
export const chromiumArgs = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
];
