import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * The console is served by the API at /console (src/console-route.ts) from dist/. In
 * development (`npm run dev -w console`) Vite proxies /graphql to the API on port 4000.
 */
export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  server: {
    proxy: {
      '/graphql': { target: 'http://127.0.0.1:4000', ws: true },
      '/documents': 'http://127.0.0.1:4000',
    },
  },
});
