/**
 * The Content-Security-Policy, in one place: vite.config.ts writes it into the built index.html as a <meta>
 * and sends it as a header from `vite preview` (and, with inline scripts allowed for React's hot reload only,
 * from `vite dev`). Stored projects, project files and datasets are untrusted input: no script may come from
 * anywhere but the app's own files, and the page talks to no host but its own — except the model URL a user
 * types into Load URL (connect-src http: https:).
 */
const directives: Record<string, string[]> = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'worker-src': ["'self'", 'blob:'],
  'img-src': ["'self'", 'blob:', 'data:'],
  // React writes element styles through the CSSOM; 'unsafe-inline' covers style attributes (never scripts).
  'style-src': ["'self'", "'unsafe-inline'"],
  'connect-src': ["'self'", 'http:', 'https:'],
  'font-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'none'"],
};

function serialise(extra: Partial<Record<string, string[]>> = {}): string {
  return Object.entries(directives)
    .map(([name, values]) => [name, ...values, ...(extra[name] ?? [])].join(' '))
    .join('; ');
}

/** The policy of the built app's document (the <meta>: it covers the page, which compiles no WebAssembly). */
export const CONTENT_SECURITY_POLICY = serialise();

/**
 * The policy as a header (`vite preview`; what a static host should send): a header also covers the worker,
 * where tfjs' wasm backend compiles WebAssembly ('wasm-unsafe-eval': WebAssembly compilation only, eval and
 * inline scripts stay refused) and its threaded build starts its threads, which load their script from a
 * blob: URL the backend makes of its own bundled code (blob:). Only code already running can make a blob: URL.
 */
const WASM_SCRIPT_SOURCES = ["'wasm-unsafe-eval'", 'blob:'];
export const HEADER_CONTENT_SECURITY_POLICY = serialise({ 'script-src': WASM_SCRIPT_SOURCES });

/** The dev server's: React's fast refresh injects an inline module script, which only `vite dev` may run. */
export const DEV_CONTENT_SECURITY_POLICY = serialise({ 'script-src': [...WASM_SCRIPT_SOURCES, "'unsafe-inline'"], 'connect-src': ['ws:'] });

/**
 * Cross-origin isolation: with these two headers on every response the page (and its worker) gets
 * SharedArrayBuffer, so tfjs' wasm backend runs its threaded build. COEP require-corp still lets Load URL
 * read a model from another host that answers CORS requests (fetch uses CORS mode); without the headers
 * (a static host that does not send them) wasm runs single-threaded and everything else works the same.
 */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
} as const;
