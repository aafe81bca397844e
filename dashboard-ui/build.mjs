// Builds the Dashboard into dashboard-ui/dist/: type-check (tsc), then Vite.
//   node dashboard-ui/build.mjs                  (npm run build:dashboard) fails on any error
//   node dashboard-ui/build.mjs --if-available   (npm's `prepare`, run by npm install / npm ci)
// With --if-available an install without dev dependencies (npm ci --omit=dev)
// skips the build with a note instead of failing: vite is a dev dependency.
// The platform then answers /dashboard with a 503 page that says how to build.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const directory = fileURLToPath(new URL('.', import.meta.url));
const require = createRequire(import.meta.url);
const ifAvailable = process.argv.includes('--if-available');

function resolveOrNull(name) {
  try {
    return require.resolve(name);
  } catch {
    return null;
  }
}

const typescript = resolveOrNull('typescript/bin/tsc');
if (!resolveOrNull('vite') || !typescript || !resolveOrNull('react')) {
  const message = 'dashboard-ui: vite, react or typescript is not installed (an install without dev dependencies?)';
  if (ifAvailable) {
    console.log(`${message}; the Dashboard is not built. Run npm run build:dashboard after a full npm install.`);
    process.exit(0);
  }
  console.error(`${message}: run npm install first.`);
  process.exit(1);
}

const started = Date.now();
const check = spawnSync(process.execPath, [typescript, '-p', `${directory}tsconfig.json`], { stdio: 'inherit' });
if (check.status !== 0) {
  console.error('dashboard-ui: type errors (above); the Dashboard was not built.');
  process.exit(check.status ?? 1);
}
const { build } = await import('vite');
await build({ configFile: `${directory}vite.config.ts`, logLevel: 'warn' });
console.log(`dashboard-ui: built dashboard-ui/dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
