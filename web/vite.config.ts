import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The server (`quader server --web-dir web/dist`) serves these static files at "/"
// and falls back to index.html for client-side routes, so assets use absolute paths.
// `npm run dev` proxies the API to a running server (QUADER_API, default :8080).
const api = process.env.QUADER_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      output: {
        // Keep the libraries (which change rarely) apart from the app code.
        manualChunks(id) {
          if (!id.includes('node_modules')) return undefined;
          if (/node_modules\/(react|react-dom|scheduler|react-router)\//.test(id)) return 'react';
          // React Flow and its d3/zustand parts: only the pipeline editor and run pages use them.
          if (/node_modules\/(@xyflow|d3-[a-z]+|zustand|classcat)\//.test(id)) return 'flow';
          return 'antd';
        },
      },
    },
  },
  server: {
    proxy: {
      '/api': { target: api, changeOrigin: false },
      '/healthz': { target: api },
    },
  },
});
