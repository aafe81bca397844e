import { readFileSync } from 'node:fs';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import { dashboardSecuritySchemes, dashboardTags } from '../dashboard/documentation.ts';
import { apiPrefix } from '../dashboard/http.ts';
import { dashboardApiRoutes } from '../dashboard/index.ts';
import { dataApiSigning, dataApiTag } from '../data-api/documentation.ts';
import { dataApiRoutes } from '../data-api/index.ts';
import { gateRoutes } from '../gate/routes.ts';
import { linkApiRoutes, paymentLinkTag } from '../payment-links/index.ts';
import type { PlatformContext } from '../processing/context.ts';
import { documentedErrorCodes } from './openapi-schemas.ts';
import { testClockRoutes } from '../test-clock/routes.ts';

/**
 * The OpenAPI 3.1 description of Gate, the Data API and the Dashboard API,
 * generated from the routes' own TypeBox schemas by `@fastify/swagger`. A
 * route is in the document when its schema has `tags` (Dashboard routes get
 * theirs from their `RouteDefinition`); everything else (the Payment Page,
 * the PayPal sandbox, webhooks, probes) stays out.
 *
 * It lives with the operations code (metrics, readiness) because it is part
 * of what an operator publishes about a node: served at `/docs` (Swagger UI,
 * assets from the package, no CDN) and `/docs/json`, and written to
 * `openapi.json` by `npm run openapi`; `test/openapi.test.ts` keeps the file,
 * the error registry and `docs/error-codes.md` in step.
 */

export const docsRoutePrefix = '/docs';

/**
 * Swagger UI needs inline style attributes and `data:` images (its logo);
 * nothing else leaves the origin. Set on `/docs` only; every other page keeps
 * the platform's `default-src 'none'`.
 */
export const docsContentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const packageVersion = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

// ---------------------------------------------------------------- the document

const description = `Gatehouse speaks the ecommpay merchant API. Gate requests are JSON POSTs signed in
\`general.signature\`: \`base64(HMAC-SHA512(secret_key, string_to_sign))\`, where the string to sign
flattens the body without the signature to sorted \`path:value\` items joined with \`;\`.
A \`success\` answer means *accepted for processing*: the outcome arrives by callback to the project's
callback URL (or \`general.merchant_callback_url\`), signed the same way.

The **Data API** (\`POST /data/v1/...\`) serves programs acting for a Dashboard user, signed with the
user's Data API key (\`user_id\`, \`timestamp\`, \`signature\` in the body); its test-clock routes are
signed like Gate with a project's key. The **Dashboard API** (\`${apiPrefix}/...\`) is what the
Dashboard and the operator console run on: a session cookie from sign-in, the CSRF header on every
state-changing request, and the roles each operation lists in \`x-roles\`. More in docs/dashboard-api.md.

Errors answer \`{"status":"error","code","message","request_id"}\` with the HTTP status of the code;
\`x-error-codes\` lists every code (also in docs/error-codes.md).`;

function swaggerOptions() {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Gatehouse API',
        version: packageVersion,
        description,
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      tags: [
        { name: 'Gate', description: 'Payments, holds, refunds, payouts, COF purchases and status (`/v2/payment/...`).' },
        { name: dataApiTag, description: `Operations, chargebacks, balances and FX rates (\`/data/v1/...\`). ${dataApiSigning}` },
        { name: paymentLinkTag, description: "Payment links (`/v2/payment-links...`), signed like Gate with the project's secret key; customers pay at `/pay/<link_id>`." },
        { name: 'Data API: test clocks', description: "Test clocks of test projects (`/data/v1/test-clock...`), signed like Gate with the project's secret key." },
        ...dashboardTags,
      ],
      components: { securitySchemes: dashboardSecuritySchemes() },
      'x-error-codes': documentedErrorCodes(),
    },
    hideUntagged: true,
  };
}

/**
 * Registers `@fastify/swagger` (and, with `ui`, Swagger UI at `/docs`).
 * Must run before the documented routes are registered.
 */
export async function registerApiDocumentation(app: FastifyInstance, options: { ui: boolean } = { ui: true }): Promise<void> {
  await app.register(swagger, swaggerOptions());
  if (!options.ui) return;
  await app.register(swaggerUi, {
    routePrefix: docsRoutePrefix,
    staticCSP: docsContentSecurityPolicy,
    uiConfig: { docExpansion: 'list', deepLinking: true, defaultModelsExpandDepth: 0 },
    logLevel: 'warn',
  });
}

/** The Dashboard API's routes without the node's workers: documenting them starts nothing. */
async function dashboardApiDocumentationRoutes(app: FastifyInstance, options: { context: PlatformContext }): Promise<void> {
  await dashboardApiRoutes(app, { context: options.context, kickMassPayouts: () => undefined });
}

/** The routes that the document describes; the OpenAPI build registers exactly these. */
const documentedPlugins = [gateRoutes, linkApiRoutes, testClockRoutes, dataApiRoutes, dashboardApiDocumentationRoutes] as const;

/**
 * A context for building the document without a database: route plugins
 * only close over it at registration, and nothing serves requests here.
 */
function documentationOnlyContext(): PlatformContext {
  return new Proxy({} as PlatformContext, {
    get(_target, property) {
      throw new Error(`the OpenAPI build serves no requests (context.${String(property)} was read)`);
    },
  });
}

/**
 * Builds the document without a database, workers or a listening socket.
 *
 * @example
 * writeFileSync('openapi.json', openApiJson(await buildOpenApiDocument()))
 */
export async function buildOpenApiDocument(): Promise<Record<string, unknown>> {
  const app = Fastify({ logger: false });
  try {
    await registerApiDocumentation(app, { ui: false });
    const context = documentationOnlyContext();
    for (const plugin of documentedPlugins) await app.register(plugin, { context });
    await app.ready();
    return app.swagger() as unknown as Record<string, unknown>;
  } finally {
    await app.close();
  }
}

/** The document as written to `openapi.json`: two-space indentation, final newline. */
export function openApiJson(document: Record<string, unknown>): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
