// Builds the editor into ../static/editor/ with stable file names (editor.js, editor.css) so the
// Django template can load it through {% static %} without a manifest. Rebuild with
//   npm --prefix frontend ci && npm --prefix frontend run build
import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'
import { fileURLToPath } from 'node:url'

export default defineConfig({
  plugins: [react()],
  base: './',
  build: {
    outDir: fileURLToPath(new URL('../static/editor', import.meta.url)),
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2020',
    rollupOptions: {
      input: fileURLToPath(new URL('./src/main.jsx', import.meta.url)),
      output: {
        entryFileNames: 'editor.js',
        assetFileNames: 'editor[extname]',
        inlineDynamicImports: true,
      },
    },
  },
})
