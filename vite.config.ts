/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { CONTENT_SECURITY_POLICY, DEV_CONTENT_SECURITY_POLICY } from './csp.config';

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
  server: { headers: { 'Content-Security-Policy': DEV_CONTENT_SECURITY_POLICY } },
  preview: { headers: { 'Content-Security-Policy': CONTENT_SECURITY_POLICY } },
  base: './',
  worker: { format: 'es' },
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
