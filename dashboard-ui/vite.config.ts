import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The Dashboard's build: served by the platform at /dashboard (see
 * src/dashboard-ui/index.ts), so every asset URL starts with /dashboard/.
 * `npm run build:dashboard` writes dashboard-ui/dist/. For UI work, run the
 * platform (`npm start`) and `npx vite dashboard-ui`: the dev server proxies
 * the API to it.
 */
const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/dashboard/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No inline scripts or data: modules: the CSP allows scripts from 'self' only.
    assetsInlineLimit: 0,
    sourcemap: false,
    chunkSizeWarningLimit: 700,
  },
  server: {
    proxy: { '/dashboard/api': { target: process.env.GATEHOUSE_URL ?? 'http://127.0.0.1:8080', changeOrigin: false } },
  },
});
