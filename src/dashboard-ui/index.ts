import { existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * Serves the built Dashboard (React + Vite, `dashboard-ui/`) at `/dashboard`:
 * hashed assets under `/dashboard/assets/` (cached for a year), any other
 * path under `/dashboard/` answers `index.html` so the browser's router can
 * show it (SPA fallback). `/dashboard/api/...` is the JSON API's and is never
 * answered here: its routes are more specific, and this plugin refuses the
 * prefix anyway so a missing API route cannot turn into an HTML page.
 *
 * Every answer carries a strict CSP: scripts, styles, fonts and API calls
 * only from this origin, no inline script or style elements, no framing.
 * When the build is missing (a checkout where `npm run build:dashboard` has
 * not run), `/dashboard` answers 503 with a page saying so.
 *
 * @example
 * await app.register(dashboardUiRoutes, {});
 * // GET /dashboard/payments -> dashboard-ui/dist/index.html (200, text/html)
 */
export interface DashboardUiOptions {
  /** The Vite build's folder; `dashboard-ui/dist` of this checkout by default. */
  distDirectory?: string;
}

export const dashboardUiPrefix = '/dashboard';
export const defaultDistDirectory = fileURLToPath(new URL('../../dashboard-ui/dist/', import.meta.url));

export const dashboardContentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The 503 page has no script and no stylesheet at all. */
const missingBuildPolicy = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const missingBuildPage = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Dashboard not built - Gatehouse</title></head>
<body>
<main>
<h1>The Dashboard has not been built</h1>
<p>This Gatehouse node has no Dashboard build in <code>dashboard-ui/dist/</code>.</p>
<p>Run <code>npm run build:dashboard</code> (or <code>npm install</code>, which builds it), then reload this page. No restart is needed.</p>
<p>The Dashboard API at <code>/dashboard/api/</code> works without the build.</p>
</main>
</body>
</html>
`;

/** Asset names Vite gives contain a content hash, so they may be cached for good. */
const immutableCache = 'public, max-age=31536000, immutable';

export async function dashboardUiRoutes(app: FastifyInstance, options: DashboardUiOptions): Promise<void> {
  const distDirectory = options.distDirectory ?? defaultDistDirectory;
  const indexFile = join(distDirectory, 'index.html');
  // serve: false: this plugin chooses what each path answers; @fastify/static only sends files
  // (ETag, Last-Modified, ranges, HEAD, and no path may leave `root`).
  await app.register(fastifyStatic, { root: distDirectory, serve: false, index: false, dotfiles: 'deny', cacheControl: false });

  const sendIndex = (reply: FastifyReply) => {
    if (!existsSync(indexFile)) {
      return reply.code(503).header('content-security-policy', missingBuildPolicy).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(missingBuildPage);
    }
    return reply.header('content-security-policy', dashboardContentSecurityPolicy).header('cache-control', 'no-cache').sendFile('index.html');
  };

  app.get(dashboardUiPrefix, async (_request, reply) => sendIndex(reply));
  app.get(`${dashboardUiPrefix}/*`, async (request: FastifyRequest<{ Params: { '*': string } }>, reply) => {
    const path = request.params['*'];
    if (path === 'api' || path.startsWith('api/')) return reply.callNotFound();
    reply.header('content-security-policy', dashboardContentSecurityPolicy);
    if (path.startsWith('assets/')) {
      if (!existsSync(indexFile)) return sendIndex(reply);
      return reply.header('cache-control', immutableCache).sendFile(path);
    }
    // A top-level file of the build (favicon.svg, robots.txt); anything else is a route of the app.
    if (extname(path) !== '' && !path.includes('/') && path !== 'index.html' && existsSync(join(distDirectory, path))) {
      return reply.header('cache-control', 'public, max-age=3600').sendFile(path);
    }
    return sendIndex(reply);
  });
}
