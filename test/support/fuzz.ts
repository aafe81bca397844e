import fc from 'fast-check';
import { errorCodes } from '../../src/domain/errors.ts';
import { signGateRequest } from '../../src/signature/index.ts';
import { saleBody, type TestPlatform } from './platform.ts';

/**
 * Schema-aware fuzzing of the HTTP surface: valid requests with one field
 * broken (wrong type, huge, deeply nested, missing), random JSON, invalid
 * UTF-8, broken and wrong signatures, unknown routes. Used by the test suite
 * (short) and `npm run test:reliability` (long). Every answer must be a
 * documented code and never a 5xx; rejected requests write nothing.
 */
export interface FuzzFigures {
  requests: number;
  serverErrors: number;
  undocumented: number;
  accepted: number;
  paymentsWritten: number;
  seed: number;
  failures: string[];
}

const documentedCodes = new Set(Object.values(errorCodes).map((entry) => entry.code));

const routes = [
  '/v2/payment/wallet/paypal/sale',
  '/v2/payment/wallet/paypal/auth',
  '/v2/payment/wallet/paypal/capture',
  '/v2/payment/wallet/paypal/cancel',
  '/v2/payment/wallet/paypal/refund',
  '/v2/payment/wallet/paypal/payout',
  '/v2/payment/wallet/paypal/recurring',
  '/v2/payment/wallet/paypal/recurring/cancel',
  '/v2/payment/status',
  '/data/v1/test-clock',
  '/data/v1/test-clock/advance',
  '/data/v1/operations/get',
  '/data/v1/operations/payment',
  '/data/v1/balances/get',
  '/data/v1/chargebacks/get',
  '/data/v1/rates/get',
  '/v2/payment/wallet/unknown/sale',
];

type Mutation = { kind: 'replace'; path: string[]; value: unknown } | { kind: 'delete'; path: string[] };

const leafPaths: string[][] = [
  ['general'], ['general', 'project_id'], ['general', 'payment_id'], ['general', 'signature'], ['general', 'merchant_callback_url'],
  ['payment'], ['payment', 'amount'], ['payment', 'currency'], ['payment', 'description'],
  ['customer'], ['customer', 'id'], ['customer', 'ip_address'], ['customer', 'email'], ['customer', 'country'],
  ['return_url'], ['return_url', 'success'], ['recurring'], ['recurring', 'id'], ['recurring', 'register'], ['recurring', 'start_date'],
  ['callback', 'delay'], ['additional_data', 'payments_count'], ['account', 'number'], ['clock', 'advance_seconds'],
];

function deepNesting(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let level = 0; level < depth; level += 1) value = level % 2 === 0 ? { nested: value } : [value];
  return value;
}

const hostileValue = fc.oneof(
  fc.anything({ maxDepth: 3 }),
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.constantFrom(null, true, false, '', -1, 0, 1.5, 1e308, -0, '1000', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '\u0000', '<script>alert(1)</script>', "' OR 1=1 --"),
  fc.constantFrom('x'.repeat(70_000), 'é'.repeat(5_000)),
  fc.integer({ min: 50, max: 3_000 }).map(deepNesting),
  fc.array(fc.string(), { maxLength: 50 }),
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), path: fc.constantFrom(...leafPaths), value: hostileValue }),
  fc.record({ kind: fc.constant('delete' as const), path: fc.constantFrom(...leafPaths) }),
);

type Shape = 'mutated-signed' | 'mutated-unsigned' | 'wrong-secret' | 'random-json' | 'bad-utf8' | 'not-json';

const requestShape = fc.record({
  route: fc.constantFrom(...routes),
  shape: fc.constantFrom<Shape>('mutated-signed', 'mutated-signed', 'mutated-unsigned', 'wrong-secret', 'random-json', 'bad-utf8', 'not-json'),
  mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }),
  random: fc.jsonValue({ maxDepth: 4 }),
  bytes: fc.uint8Array({ minLength: 1, maxLength: 200 }),
  contentType: fc.constantFrom('application/json', 'application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream'),
});

function apply(body: Record<string, any>, change: Mutation): void {
  let holder: any = body;
  for (const key of change.path.slice(0, -1)) {
    if (typeof holder[key] !== 'object' || holder[key] === null) holder[key] = {};
    holder = holder[key];
  }
  const last = change.path[change.path.length - 1];
  if (change.kind === 'delete') delete holder[last];
  else holder[last] = change.value;
}

export async function fuzzHttpSurface(gh: TestPlatform, options: { runs: number; seed: number; concurrency?: number }): Promise<FuzzFigures> {
  const figures: FuzzFigures = { requests: 0, serverErrors: 0, undocumented: 0, accepted: 0, paymentsWritten: 0, seed: options.seed, failures: [] };
  const samples = fc.sample(requestShape, { numRuns: options.runs, seed: options.seed });
  const countPayments = async () => Number((await gh.platform.context.pool.query('SELECT count(*)::int AS n FROM payments')).rows[0].n);
  const before = await countPayments();
  let index = 0;
  const worker = async () => {
    while (index < samples.length) {
      const sample = samples[index];
      const sampleIndex = index;
      index += 1;
      const { body, contentType } = buildRequest(gh, sample, sampleIndex);
      const response = await fetch(`${gh.baseUrl}${sample.route}`, { method: 'POST', headers: { 'content-type': contentType }, body }).catch((error: Error) => error);
      figures.requests += 1;
      if (response instanceof Error) {
        figures.serverErrors += 1;
        figures.failures.push(`#${sampleIndex} ${sample.route}: connection ${response.message}`);
        continue;
      }
      const text = await response.text();
      if (response.status >= 500) {
        figures.serverErrors += 1;
        figures.failures.push(`#${sampleIndex} ${sample.route} ${sample.shape}: ${response.status} ${text.slice(0, 200)}`);
        continue;
      }
      if (response.status === 200) {
        figures.accepted += 1;
        continue;
      }
      let code: unknown;
      try {
        code = (JSON.parse(text) as { code?: unknown }).code;
      } catch {
        code = undefined;
      }
      if (typeof code !== 'string' || !documentedCodes.has(code)) {
        figures.undocumented += 1;
        figures.failures.push(`#${sampleIndex} ${sample.route} ${sample.shape}: ${response.status} undocumented ${text.slice(0, 200)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
  figures.paymentsWritten = (await countPayments()) - before;
  return figures;
}

type Sample = typeof requestShape extends fc.Arbitrary<infer T> ? T : never;

function buildRequest(gh: TestPlatform, sample: Sample, index: number): { body: string | Blob; contentType: string } {
  const shape = sample.shape;
  if (shape === 'random-json') return { body: JSON.stringify(sample.random), contentType: 'application/json' };
  if (shape === 'bad-utf8') return { body: new Blob([Uint8Array.from([0x7b, 0x22, 0xff, 0xfe, ...sample.bytes, 0x22, 0x7d])]), contentType: sample.contentType };
  if (shape === 'not-json') return { body: `project_id=1&payment_id=${index}&${Buffer.from(sample.bytes).toString('latin1')}`, contentType: sample.contentType };
  const body = saleBody(gh.project.id, `fuzz-${index}`);
  for (const change of sample.mutations) apply(body, change);
  let payload: unknown = body;
  try {
    if (shape === 'mutated-signed') payload = signGateRequest(body, gh.project.secretKey);
    if (shape === 'wrong-secret') payload = signGateRequest(body, 'not-the-secret');
  } catch {
    payload = body; // too deep or too large to sign: sent unsigned
  }
  return { body: JSON.stringify(payload), contentType: 'application/json' };
}

/** The Payment Page with hostile query strings and form posts: never a 5xx, nothing written without a valid signature. */
export async function fuzzPaymentPage(gh: TestPlatform, options: { runs: number; seed: number }): Promise<FuzzFigures> {
  const figures: FuzzFigures = { requests: 0, serverErrors: 0, undocumented: 0, accepted: 0, paymentsWritten: 0, seed: options.seed, failures: [] };
  const parameter = fc.constantFrom('project_id', 'payment_id', 'payment_amount', 'payment_currency', 'customer_id', 'signature', 'recurring',
    'payment_methods_options', 'best_before', 'language_code', 'force_payment_method', 'redirect_success_url', 'customer_email', 'x');
  const query = fc.array(fc.tuple(parameter, fc.oneof(fc.string({ maxLength: 30 }), fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)), fc.constantFrom('%', '%zz', '\u0000', 'x'.repeat(5_000)))), { maxLength: 12 });
  const samples = fc.sample(fc.record({ query, post: fc.boolean(), form: fc.string({ maxLength: 40 }) }), { numRuns: options.runs, seed: options.seed });
  const before = Number((await gh.platform.context.pool.query('SELECT count(*)::int AS n FROM payments')).rows[0].n);
  for (const [index, sample] of samples.entries()) {
    const search = sample.query.map(([key, value]) => `${key}=${index % 3 === 0 ? value : encodeURIComponent(value)}`).join('&');
    const response = await fetch(`${gh.baseUrl}/payment?${search}`, {
      method: sample.post ? 'POST' : 'GET',
      headers: sample.post ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
      body: sample.post ? sample.form : undefined,
      redirect: 'manual',
    }).catch((error: Error) => error);
    figures.requests += 1;
    if (response instanceof Error || response.status >= 500) {
      figures.serverErrors += 1;
      figures.failures.push(`page #${index}: ${response instanceof Error ? response.message : response.status} ${search.slice(0, 120)}`);
      continue;
    }
    await response.arrayBuffer();
  }
  figures.paymentsWritten = Number((await gh.platform.context.pool.query('SELECT count(*)::int AS n FROM payments')).rows[0].n) - before;
  return figures;
}
