// Builds the editor into ../static/editor/ with stable file names (editor.js, editor.css) so the
// Django template can load it through {% static %} without a manifest. Rebuild with
//   npm --prefix frontend ci && npm --prefix frontend run build
// `vitest run` uses the same file (unit tests in src/**/*.test.ts, no browser).
import { defineConfig } from 'vitest/config'
import react from '@vitejs/plugin-react'
import { fileURLToPath } from 'node:url'

export default defineConfig({
  plugins: [react()],
  base: './',
  build: {
    outDir: fileURLToPath(new URL('../static/editor', import.meta.url)),
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1024,
    target: 'es2020',
    rollupOptions: {
      input: fileURLToPath(new URL('./src/main.tsx', import.meta.url)),
      output: {
        entryFileNames: 'editor.js',
        assetFileNames: 'editor[extname]',
        inlineDynamicImports: true,
      },
    },
  },
  test: { include: ['src/**/*.test.ts'], environment: 'node' },
})
