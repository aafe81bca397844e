import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { createTestDatabase, stopTestServer, type TestDatabase } from './support/database.ts';

/**
 * What can be checked of the deployment files on a machine without Docker:
 * compose.yaml parses and configures the variables the code reads, the
 * systemd unit verifies, the Dockerfile keeps its promises, every variable is
 * documented in the guide and the README (with the same defaults), and the
 * guide's npm commands run.
 */
const run = promisify(execFile);
const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

/** Every environment variable src/config.ts reads (`process.env.X` and `integer('X', ...)`). */
function configVariables(): string[] {
  const source = read('src/config.ts');
  const names = new Set<string>();
  for (const match of source.matchAll(/process\.env\.([A-Z0-9_]+)|integer\('([A-Z0-9_]+)'/g)) names.add(match[1] ?? match[2]);
  return [...names].sort();
}

/** `variable -> default` from a markdown table whose first column names variables in backticks. */
function configurationTable(markdown: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of markdown.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    if (cells.length < 4 || !cells[1].startsWith('`')) continue;
    const names = [...cells[1].matchAll(/`([A-Z0-9_]+)`/g)].map((match) => match[1]);
    if (names.length === 1) rows.set(names[0], cells[2]);
    else for (const name of names) rows.set(name, '(shared row)');
  }
  return rows;
}

let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(async () => {
  await database?.drop();
  await stopTestServer();
});

test('src/config.ts reads the variables this test knows how to find', () => {
  const variables = configVariables();
  assert.ok(variables.length >= 20, variables.join(' '));
  for (const name of ['DATABASE_URL', 'PORT', 'PUBLIC_URL', 'LOG_LEVEL']) assert.ok(variables.includes(name), name);
});

test('compose.yaml parses; the platform gets DATABASE_URL for postgres:15 and only variables the config reads', () => {
  const compose = parse(read('compose.yaml')) as {
    services: Record<string, { image?: string; build?: unknown; environment?: Record<string, string>; depends_on?: Record<string, unknown>; command?: string[] }>;
  };
  const { postgres, gatehouse } = compose.services;
  assert.equal(postgres.image, 'postgres:15');
  assert.ok(postgres.command?.includes('synchronous_commit=on'));
  assert.equal(gatehouse.build, '.');
  assert.ok(gatehouse.depends_on?.postgres);
  const environment = gatehouse.environment ?? {};
  assert.match(environment.DATABASE_URL, /^postgres:\/\/gatehouse:\$\{POSTGRES_PASSWORD[^}]*\}@postgres:5432\/gatehouse$/);
  const variables = configVariables();
  for (const name of Object.keys(environment)) assert.ok(variables.includes(name), `compose sets ${name}, which src/config.ts does not read`);
  // Left out on purpose: an empty SANDBOX_PAYPAL_CLIENT_SECRET would be taken as the secret; unset, nodes share a generated one.
  const omitted = variables.filter((name) => !(name in environment));
  assert.deepEqual(omitted, ['SANDBOX_PAYPAL_CLIENT_SECRET']);
  assert.equal(environment.SEED_DEMO_PROJECT, 'false');
  assert.equal(environment.TEST_PROJECTS_ALLOW_PRIVATE_URLS, 'false');
});

test('deploy/gatehouse.service passes systemd-analyze verify (or, without systemd, has the expected structure)', () => {
  const unit = read('deploy/gatehouse.service');
  const analyze = spawnSync('systemd-analyze', ['verify', 'deploy/gatehouse.service'], { encoding: 'utf8' });
  if (analyze.error === undefined) {
    assert.equal(analyze.status, 0, analyze.stderr);
    assert.doesNotMatch(analyze.stderr, /Unknown|Invalid|not executable|Failed|Missing/i, analyze.stderr);
  }
  const sections = [...unit.matchAll(/^\[(\w+)\]$/gm)].map((match) => match[1]);
  assert.deepEqual(sections, ['Unit', 'Service', 'Install']);
  // The unit runs what `npm start` runs (its Node flags included), without npm and tsx's launcher.
  const startScript: string = JSON.parse(readFileSync('package.json', 'utf8')).scripts.start;
  const startFlags = startScript.replace(/^tsx /, '').replace(/ ?src\/main\.ts$/, '');
  assert.ok(unit.split('\n').includes(`ExecStart=/usr/bin/node ${startFlags ? `${startFlags} ` : ''}--import tsx src/main.ts`), startScript);
  assert.match(unit, /^User=gatehouse$/m);
  assert.match(unit, /^EnvironmentFile=\/etc\/gatehouse\/gatehouse\.env$/m);
  assert.match(unit, /^WantedBy=multi-user\.target$/m);
});

test('Dockerfile: node:20-slim, npm ci, a non-root user, npm start; .dockerignore keeps secrets and bulk out', () => {
  const dockerfile = read('Dockerfile');
  assert.match(dockerfile, /^FROM node:20-slim$/m);
  assert.match(dockerfile, /^RUN npm ci\b/m);
  const users = [...dockerfile.matchAll(/^USER (\S+)$/gm)].map((match) => match[1]);
  assert.ok(users.length > 0 && !['root', '0'].includes(users[users.length - 1]), 'the image runs as a non-root user');
  assert.match(dockerfile, /^CMD \["npm", "start"\]$/m);
  // Sources copied from an earlier build stage (--from=) are not in the repository.
  for (const match of dockerfile.matchAll(/^COPY (?!--from=)(?:--\S+ )*(.+) \S+$/gm)) {
    for (const source of match[1].split(/\s+/)) assert.ok(existsSync(new URL(`../${source}`, import.meta.url)), `COPY ${source} exists`);
  }
  const ignored = read('.dockerignore').split('\n').map((line) => line.trim());
  for (const entry of ['node_modules', '.git', '.env', '.gatehouse', '.test-data']) assert.ok(ignored.includes(entry), entry);
});

test('every variable of src/config.ts is in docs/deployment.md and README.md, with the same defaults', () => {
  const guide = read('docs/deployment.md');
  const readme = read('README.md');
  const guideTable = configurationTable(guide.slice(guide.indexOf('## Configuration')));
  const readmeTable = configurationTable(readme.slice(readme.indexOf('## Configuration')));
  for (const name of configVariables()) {
    assert.ok(guideTable.has(name), `docs/deployment.md's configuration table lists ${name}`);
    assert.ok(readme.includes(`\`${name}\``), `README.md names ${name}`);
    const inReadme = readmeTable.get(name);
    const inGuide = guideTable.get(name);
    if (inReadme !== undefined && inReadme !== '(shared row)') assert.equal(inGuide, inReadme, `default of ${name}`);
  }
});

test("the guide's npm commands that can run here do run", async () => {
  const guide = read('docs/deployment.md');
  const commands: string[] = [];
  for (const block of guide.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of block[1].split('\n')) {
      const command = line.trim();
      // Placeholders (<project_id>) need values from a real installation; npm ci and start are not quick.
      if (command.startsWith('npm run ') && !command.includes('<')) commands.push(command);
    }
  }
  assert.ok(commands.length >= 6, `found ${commands.join(' | ')}`);
  const env = { ...process.env, DATABASE_URL: database.connectionString, npm_config_update_notifier: 'false' };
  const pending = [...commands];
  const runNext = async (): Promise<void> => {
    const command = pending.shift();
    if (command === undefined) return;
    const { stdout } = await run('bash', ['-c', command], { env, maxBuffer: 8 * 1024 * 1024, timeout: 60_000 }).catch((error: { stderr?: string; message: string }) => {
      throw new Error(`\`${command}\` failed: ${error.stderr ?? error.message}`);
    });
    assert.ok(stdout.length > 0, `\`${command}\` printed something`);
    return runNext();
  };
  // Two at a time: each is a Node process start.
  await Promise.all([runNext(), runNext()]);
});
