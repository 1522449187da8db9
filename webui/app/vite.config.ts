import { defineConfig } from 'vitest/config';

// The gateway serves the build under /app (webui.Handler); `make ui` writes
// it to ../dist/build, which the Go package embeds.
export default defineConfig({
  base: '/app/',
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: '../dist/build',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    // `npm run dev` against a local `make run`.
    proxy: { '^/(?!app)': 'http://127.0.0.1:5601' },
  },
  test: { environment: 'node', include: ['src/**/*.test.ts'] },
});
