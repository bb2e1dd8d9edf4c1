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

/** The policy of the built app (meta and preview header). */
export const CONTENT_SECURITY_POLICY = serialise();

/** The dev server's: React's fast refresh injects an inline module script, which only `vite dev` may run. */
export const DEV_CONTENT_SECURITY_POLICY = serialise({ 'script-src': ["'unsafe-inline'"], 'connect-src': ['ws:'] });
