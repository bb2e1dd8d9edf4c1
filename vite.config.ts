/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { CONTENT_SECURITY_POLICY, DEV_CONTENT_SECURITY_POLICY, HEADER_CONTENT_SECURITY_POLICY, ISOLATION_HEADERS } from './csp.config';

export default defineConfig({
  plugins: [
    react(),
    {
      // The built index.html carries the policy as a <meta>, so it holds on any static host too.
      name: 'content-security-policy',
      apply: 'build',
      transformIndexHtml: () => [
        { tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CONTENT_SECURITY_POLICY }, injectTo: 'head-prepend' },
      ],
    },
  ],
  // COOP + COEP make the page cross-origin isolated, so the wasm backend can use threads (csp.config.ts).
  server: { headers: { 'Content-Security-Policy': DEV_CONTENT_SECURITY_POLICY, ...ISOLATION_HEADERS } },
  preview: { headers: { 'Content-Security-Policy': HEADER_CONTENT_SECURITY_POLICY, ...ISOLATION_HEADERS } },
  base: './',
  worker: {
    format: 'es',
    // Not minified: the wasm backend's threaded build starts its threads from its factory's own source
    // (Function.toString into a blob:), which minification breaks ("e is not defined").
    rolldownOptions: { output: { minify: false } },
  },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4000,
  },
  test: {
    environment: 'node',
    testTimeout: 60_000,
    // Two projects: the quick unit tests (npm run test:unit), and the few that train real models on the cpu backend (npm run test:slow).
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'], exclude: ['**/*.slow.test.ts'] } },
      { extends: true, test: { name: 'slow', include: ['src/**/*.slow.test.ts'], testTimeout: 300_000 } },
    ],
  },
});
