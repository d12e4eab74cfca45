/**
 * Service-worker registration (vite-plugin-pwa / Workbox; config in vite.config.ts), production builds only:
 * the dev server never registers one. A new version is installed in the background and waits; it takes over
 * when every open lab page has been closed (the next load), so a page that is training is never disturbed.
 */
import { registerSW } from 'virtual:pwa-register';

/** Register the service worker once (no-op in dev or where service workers are unavailable). */
export function registerServiceWorker(): void {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return;
  registerSW({ immediate: true });
}
