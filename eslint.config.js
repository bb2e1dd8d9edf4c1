// ESLint: TypeScript, React hooks, import cycles, and the layering of src/ (docs/ARCHITECTURE.md) as rules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

/** Import patterns a folder must not use, with the reason the rule gives. */
const forbid = (...groups) => ({ patterns: groups.map(([group, message, allowTypeImports = false]) => ({ group, message, allowTypeImports })) });

const TFJS = [['@tensorflow/*'], 'No tfjs here: core/ and data/ are tfjs-free, and the main thread reaches tfjs only through the worker.'];
const UI = [['react', 'react-dom', 'react-dom/*', 'zustand', 'zustand/*', 'uplot'], 'The UI libraries belong to components/, charts/, store/ and app/.'];
const up = (folders, why, allowTypeImports = false) => [folders.flatMap((f) => [`**/${f}/*`, `../${f}`, `../${f}/*`]), why, allowTypeImports];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'public/**', 'test-results/**', 'playwright-report/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks, 'import-x': importX },
    languageOptions: { globals: { ...globals.browser, ...globals.node, ...globals.worker } },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.tsx', '.js', '.json'] })],
      // Dependencies are parsed as TypeScript too, or no-cycle cannot follow them.
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      'import-x/extensions': ['.ts', '.tsx', '.js'],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['src/**/*.{ts,tsx}'],
    rules: {
      // The classic hook rules; the React Compiler's stricter ones (set-state-in-effect, refs during render) are for a later pass.
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
    },
  },
  {
    // Tests build hostile inputs by hand.
    files: ['**/*.test.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        forbid(TFJS, UI, up(['engine', 'data', 'worker', 'client', 'store', 'components', 'charts', 'app'], 'core/ imports nothing of the studio but core/.')),
      ],
      'no-restricted-globals': ['error', 'document', 'window', 'navigator', 'localStorage'],
    },
  },
  {
    files: ['src/engine/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        forbid(
          UI,
          up(
            ['worker', 'client', 'store', 'components', 'charts', 'app'],
            'engine/ is pure: it imports core/ and data/ types, never the worker, the store or the UI.',
          ),
        ),
      ],
    },
  },
  {
    files: ['src/data/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        forbid(TFJS, UI, up(['engine', 'worker', 'client', 'store', 'components', 'charts', 'app'], 'data/ turns files into pixels; it imports core/ only.')),
      ],
    },
  },
  {
    files: ['src/worker/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        forbid(UI, up(['client', 'store', 'components', 'charts', 'app'], 'The worker adapts messages to engine calls; it knows nothing of the main thread.')),
      ],
    },
  },
  {
    files: ['src/store/**/*.ts', 'src/client/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        forbid(
          TFJS,
          up(['components', 'charts', 'app'], 'The store and the client sit below the UI; the UI imports them, not the other way round.'),
          up(['engine'], 'The main thread reaches tfjs only through the worker: import core/, not engine/.'),
        ),
      ],
    },
  },
  {
    files: ['src/charts/**/*.{ts,tsx}'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        forbid(TFJS, up(['components', 'app'], 'Charts are fed by the store; they import core/ and store/, not components/.')),
      ],
    },
  },
  {
    files: ['src/components/**/*.{ts,tsx}', 'src/app/**/*.ts', 'src/*.tsx'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        forbid(
          TFJS,
          up(['engine'], 'The main thread reaches tfjs only through the worker: import core/, not engine/.'),
          up(['worker'], 'The main thread talks to the worker through client/; only the protocol types may be imported.', true),
        ),
      ],
    },
  },
  {
    // Tests of one layer keep its rules; src/integration/ holds the tests that wire layers together (client + worker in one process).
    files: ['src/integration/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': 'off' },
  },
  prettier,
);
