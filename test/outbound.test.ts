import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { networkErrorCode, requestFetcher } from '../src/http/outbound.ts';
import { freePort } from './support/platform.ts';

// The platform's outbound HTTP client (connector calls, callbacks, the sandbox's webhooks): what a receiver sees and what we read back.
const fetcher = requestFetcher();
const requests: { method: string; url: string; body: string; headers: http.IncomingHttpHeaders }[] = [];
let server: http.Server;
let base: string;

before(async () => {
  server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      requests.push({ method: request.method ?? '', url: request.url ?? '', body, headers: request.headers });
      if (request.url === '/moved') return response.writeHead(302, { location: `${base}/target` }).end('moved');
      if (request.url === '/silent') return; // never answers
      response.writeHead(201, { 'content-type': 'application/json', 'x-many': ['a', 'b'], 'paypal-debug-id': 'dbg-1' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

test('sends method, headers and body; answers status, headers by any case and the whole body', async () => {
  const answer = await fetcher(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'Gatehouse-Test/1' }, body: '{"a":1}' });
  assert.equal(answer.status, 201);
  assert.equal(await answer.text(), '{"ok":true}');
  assert.equal(await answer.text(), '{"ok":true}', 'the body can be read again');
  assert.equal(answer.headers.get('PayPal-Debug-Id'), 'dbg-1');
  assert.equal(answer.headers.get('x-many'), 'a, b');
  assert.equal(answer.headers.get('absent'), null);
  const received = requests.at(-1)!;
  assert.deepEqual([received.method, received.url, received.body, received.headers['user-agent']], ['POST', '/echo', '{"a":1}', 'Gatehouse-Test/1']);
});

test('never follows a redirect: the 302 is the answer and its target is not requested', async () => {
  const before = requests.length;
  const answer = await fetcher(`${base}/moved`, { method: 'POST', headers: {}, body: 'x' });
  assert.equal(answer.status, 302);
  assert.equal(answer.headers.get('location'), `${base}/target`);
  assert.deepEqual(requests.slice(before).map((request) => request.url), ['/moved']);
});

test('a receiver that never answers is cut off by the signal', async () => {
  const startedAt = Date.now();
  const signal = AbortSignal.timeout(300);
  await assert.rejects(fetcher(`${base}/silent`, { method: 'POST', headers: {}, body: '{}', signal }));
  assert.ok(signal.aborted);
  assert.ok(Date.now() - startedAt < 5_000, 'well before any socket timeout');
});

test('a refused connection fails with its network code', async () => {
  const closedPort = await freePort();
  const error = await fetcher(`http://127.0.0.1:${closedPort}/`, { method: 'GET', headers: {} }).then(
    () => assert.fail('expected a failure'),
    (caught: unknown) => caught,
  );
  assert.equal(networkErrorCode(error), 'ECONNREFUSED');
  assert.equal(networkErrorCode(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } })), 'ECONNRESET', "fetch's form: the code on the cause");
  assert.equal(networkErrorCode(new Error('no code')), undefined);
});
