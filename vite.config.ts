/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
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
