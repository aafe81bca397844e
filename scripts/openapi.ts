import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument, openApiJson } from '../src/observability/openapi.ts';

/**
 * `npm run openapi`: writes the OpenAPI 3.1 document of Gate, the Data API
 * and the Dashboard API to `openapi.json` in the repository root, built from the
 * route schemas without a database or a listening socket.
 * `npm run openapi -- --stdout` prints it instead.
 */
const json = openApiJson(await buildOpenApiDocument());
if (process.argv.includes('--stdout')) {
  process.stdout.write(json);
} else {
  const target = fileURLToPath(new URL('../openapi.json', import.meta.url));
  writeFileSync(target, json);
  process.stdout.write(`wrote ${target}\n`);
}
