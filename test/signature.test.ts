import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import {
  ORDERINGS,
  SDK_ORDERINGS,
  SIGNATURE_INPUT_LIMITS,
  SIGNING_ORDERING,
  SignatureInputTooLargeError,
  SignatureInputUnsupportedError,
  disagreeingOrderings,
  sign,
  signCallback,
  signGateRequest,
  signPaymentPageParams,
  stringToSign,
  verify,
  verifyCallback,
  verifyGateRequest,
  verifyPaymentPageQuery,
  type Ordering,
} from '../src/signature/index.ts';
import { naturalCompare } from '../src/signature/natural-compare.ts';

// ---------------------------------------------------------------- fixtures

interface SignatureVector {
  name: string;
  secret: string;
  message: Record<string, unknown>;
  signature: string;
  payment_page_query?: string;
}

interface SignatureVectorFile {
  vectors: SignatureVector[];
  strings_to_sign: { message_js_literal: string; string: string }[];
}

const vectorFile: SignatureVectorFile = JSON.parse(
  readFileSync(new URL('../../shared/spec/signature-vectors.json', import.meta.url), 'utf8'),
);

/** The npm `ecommpay` SDK (CommonJS, untyped), as merchants use it. */
interface EcommpaySdk {
  signer(message: unknown, secret: string): string;
  Callback: new (secret: string, body: unknown) => { isValid(): boolean; getPaymentId(): string };
  Payment: new (projectId: number | string, secret: string) => Record<string, unknown> & { getUrl(): string };
}
const ecommpay = createRequire(import.meta.url)('ecommpay') as EcommpaySdk;

function hmacUnder(message: unknown, ordering: Ordering, secret: string): string {
  return createHmac('sha512', secret).update(stringToSign(message, ordering)).digest('base64');
}

/** Prints a value as a JavaScript literal in the vector file's style (unquoted keys, single quotes). */
function printLiteral(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(printLiteral).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([key, item]) => `${key}:${printLiteral(item)}`).join(',')}}`;
  }
  return typeof value === 'string' ? `'${value}'` : String(value);
}

const SECRET = 'project-secret';

/** Callback bodies in the shape of the PayPal guide's figures (13, 14, the recurring ones and an intermediate one). */
const REALISTIC_CALLBACKS: Record<string, unknown>[] = [
  {
    project_id: 210,
    payment: {
      id: 'test_payment_1',
      type: 'purchase',
      status: 'success',
      date: '2019-12-25T09:48:29+0000',
      method: 'PayPal Wallet',
      sum: { amount: 1000, currency: 'USD' },
      description: '',
    },
    account: { number: 'VSAFYPWDD123' },
    customer: { id: '7895623' },
    operation: {
      id: 63460000012251,
      type: 'sale',
      status: 'success',
      date: '2019-12-25T09:48:29+0000',
      created_date: '2019-12-25T09:47:54+0000',
      request_id: '55aa73dcab3dd0a37f3a4eeb72f7-00063461',
      sum_initial: { amount: 1000, currency: 'USD' },
      sum_converted: { amount: 1000, currency: 'USD' },
      code: '0',
      message: 'Success',
      provider: { id: 1556, payment_id: '14C27062M77937123', auth_code: '', date: '2019-12-25T09:48:27+0000' },
    },
  },
  {
    project_id: 210,
    payment: {
      id: 'test_payment_2',
      type: 'purchase',
      status: 'decline',
      date: '2019-12-18T09:00:07+0000',
      method: 'PayPal Wallet',
      sum: { amount: 900, currency: 'USD' },
      description: 'test_paypal',
    },
    customer: { id: '156787' },
    operation: {
      id: 55628000009581,
      type: 'sale',
      status: 'decline',
      date: '2019-12-18T09:00:07+0000',
      created_date: '2019-12-18T08:59:30+0000',
      request_id: 'b8d98d70def1760df9f52dc00ffb6-00055629',
      sum_initial: { amount: 900, currency: 'USD' },
      sum_converted: { amount: 900, currency: 'USD' },
      code: '20000',
      message: 'General decline',
      provider: { id: 1556, payment_id: '', auth_code: '' },
    },
  },
  {
    project_id: 210,
    payment: {
      id: 'recurring-7',
      type: 'recurring',
      status: 'success',
      date: '2024-04-05T16:49:20+0000',
      method: 'PayPal Wallet',
      sum: { amount: 1500, currency: 'USD' },
      description: 'Book order',
    },
    account: { number: '1234******abc' },
    customer: { id: '123' },
    provider_extra_fields: { holder: 'John Doe', email: '****************' },
    recurring: { id: 11607, currency: 'USD' },
    operation: {
      id: 3486000011257,
      type: 'recurring_cancel',
      status: 'success',
      date: '2024-04-05T16:49:20+0000',
      created_date: '2024-04-05T16:48:20+0000',
      request_id: '5562e4dfe5dc45dfe142b2cbe-00003487',
      sum_initial: { amount: 0, currency: '' },
      sum_converted: { amount: 0, currency: '' },
      code: '0',
      message: 'Success',
      provider: { id: 1782, payment_id: '0DL958510G965733C', auth_code: '', date: '2024-04-05T16:49:01+0000' },
    },
  },
  {
    project_id: 210,
    payment: { id: 'p-intermediate', type: 'purchase', status: 'awaiting redirect result', method: 'PayPal Wallet' },
    operation: {
      id: 1001,
      type: 'sale',
      status: 'awaiting redirect result',
      code: '9999',
      message: 'Awaiting processing',
      sum_initial: { amount: 2550, currency: 'EUR' },
    },
    redirect_data: { method: 'GET', url: 'https://gatehouse.test/sandbox/paypal/approve?token=EC-1', body: {} },
    errors: [],
  },
];

// ---------------------------------------------------------------- spec vectors

describe('signature vectors of the spec (from the SDKs test suites)', () => {
  for (const vector of vectorFile.vectors) {
    it(`${vector.name}: signs to the expected signature and verifies`, () => {
      assert.equal(sign(vector.message, vector.secret), vector.signature);
      assert.equal(verify(vector.message, vector.signature, vector.secret), true);
      assert.equal(verify(vector.message, vector.signature, `${vector.secret}-other`), false);
    });
  }

  it('every vector gives the same string under every ordering (no edge cases in them)', () => {
    for (const vector of vectorFile.vectors) {
      const strings = new Set(ORDERINGS.map((ordering) => stringToSign(vector.message, ordering)));
      assert.equal(strings.size, 1, vector.name);
    }
  });

  it('payment_page_query verifies through the Payment Page verifier', () => {
    const withQuery = vectorFile.vectors.filter((vector) => vector.payment_page_query !== undefined);
    assert.ok(withQuery.length > 0);
    for (const vector of withQuery) {
      const params = Object.fromEntries(new URLSearchParams(vector.payment_page_query));
      assert.equal(params.signature, vector.signature);
      assert.deepEqual({ ...params, signature: undefined }, { ...vector.message, signature: undefined });
      assert.equal(verifyPaymentPageQuery(params, vector.secret), true);
      assert.equal(verifyPaymentPageQuery({ ...params, payment_description: 'B&W!' }, vector.secret), false);
      assert.equal(verifyPaymentPageQuery(params, 'wrong'), false);
    }
  });

  it('strings_to_sign: the converter vector, under every ordering', () => {
    // Hand translation of the vector's JavaScript literal (never evaluated);
    // printing it back must give the literal of the file.
    const message = { 0: null, a: { b: 1, c: 2 }, d: false, f: ['g', { h: 7, i: { k: 8 } }], e: [4, 5], l: { m: [{ n: 9 }] } };
    const [vector] = vectorFile.strings_to_sign;
    assert.equal(printLiteral(message), vector.message_js_literal);
    for (const ordering of ORDERINGS) assert.equal(stringToSign(message, ordering), vector.string, ordering);
    assert.equal(stringToSign(message), vector.string);
  });
});

// ---------------------------------------------------------------- npm SDK interop

describe('interoperability with the npm ecommpay SDK', () => {
  const gateBody = {
    general: { project_id: 42, payment_id: 'order-2024-001', merchant_callback_url: 'https://shop.test/cb' },
    payment: { amount: 1999, currency: 'EUR', description: 'Two books & a pen' },
    customer: { id: 'c-1', ip_address: '203.0.113.9', email: 'a@b.test', first_name: 'Zoë', country: 'DE' },
    return_url: { success: 'https://shop.test/ok', decline: 'https://shop.test/ko' },
    callback: { delay: 0, force_disable: false },
  };

  it('a Gate body signed with ecommpay.signer verifies', () => {
    const signature = ecommpay.signer(gateBody, SECRET);
    const body = { ...gateBody, general: { ...gateBody.general, signature } };
    assert.equal(verifyGateRequest(body, SECRET), 'ok');
    assert.equal(verify(gateBody, signature, SECRET), true);
    // The npm SDK and our signer agree on ordinary bodies.
    assert.equal(signGateRequest(gateBody, SECRET).general.signature, signature);
  });

  it('our signCallback output is accepted by new ecommpay.Callback for realistic callbacks', () => {
    for (const body of REALISTIC_CALLBACKS) {
      const signed = signCallback(body, SECRET);
      const callback = new ecommpay.Callback(SECRET, JSON.parse(JSON.stringify(signed)));
      assert.equal(callback.isValid(), true);
      assert.equal(callback.getPaymentId(), (body.payment as { id: string }).id);
      assert.throws(() => new ecommpay.Callback('another-secret', JSON.parse(JSON.stringify(signed))), /Invalid signature/);
      assert.deepEqual(disagreeingOrderings(body), [], 'every SDK computes the same string');
    }
  });

  it('documents: the npm SDK Callback crashes on a null value, so callbacks must carry none', () => {
    const signed = signCallback({ payment: { id: 'p-1', status: 'success', description: null } }, SECRET);
    assert.throws(() => new ecommpay.Callback(SECRET, signed), TypeError);
  });

  it('a Payment Page URL built by ecommpay.Payment verifies', () => {
    const payment = new ecommpay.Payment(210, SECRET);
    payment.paymentId = 'order 2024/001 & co';
    payment.paymentAmount = 1999;
    payment.paymentCurrency = 'EUR';
    payment.paymentDescription = 'Zoë’s books: 2 × 😀';
    payment.customerId = 'c-1';
    payment.closeOnMissclick = true; // "true" in the URL, signed as 1
    payment.redirect = false;
    payment.recurring = JSON.stringify({ register: true, type: 'R', amount: 1999 });
    const url = new URL(payment.getUrl());
    assert.equal(url.searchParams.get('close_on_missclick'), 'true');
    const params = Object.fromEntries(url.searchParams);

    assert.equal(verifyPaymentPageQuery(params, SECRET), true);
    assert.equal(verifyPaymentPageQuery(params, [SECRET.toUpperCase(), SECRET]), true);
    assert.equal(verifyPaymentPageQuery({ ...params, payment_amount: '1' }, SECRET), false);
    assert.equal(verifyPaymentPageQuery(params, 'wrong'), false);
  });

  it('edge-case messages signed by ecommpay.signer verify (its level-by-level ordering)', () => {
    const messages = [
      { items: Array.from({ length: 12 }, (_, index) => `item-${index}`) },
      { a: { x: 1 }, 'a-b': 2, a_b: 3 },
      { 'a:b': 1, c: { 'd:e': 'f' } },
      { k: { '\ue000': 'private use', '😀': 'emoji', é: 'e-acute' } },
    ];
    for (const message of messages) {
      const signature = ecommpay.signer(message, SECRET);
      assert.equal(stringToSign(message, 'js-levelwise'), stringToSignOfNpmSdk(message));
      assert.equal(verify(message, signature, SECRET), true, JSON.stringify(message));
    }
  });
});

function stringToSignOfNpmSdk(message: unknown): string {
  const converter = createRequire(import.meta.url)('ecommpay/src/converter.js') as (
    message: unknown,
    ignored: string[],
  ) => string;
  return converter(message, ['frame_mode']);
}

// ---------------------------------------------------------------- orderings

describe('orderings reproduce each SDK on edge cases', () => {
  // Expected strings produced by the SDKs' own code run on these messages:
  // the PHP SDK's SignatureHandler on PHP 8.2, the Python SDK's
  // signature_handler, and (for Go and Java) the same flattening with
  // sort.Strings / String.compareTo ordering.
  const items = Array.from({ length: 12 }, (_, index) => `i${index}`);
  const natural = items.map((item, index) => `items:${index}:${item}`);
  const byPath = [0, 1, 10, 11, 2, 3, 4, 5, 6, 7, 8, 9].map((index) => `items:${index}:i${index}`);
  const byString = [0, 10, 11, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((index) => `items:${index}:i${index}`);
  const cases: { name: string; message: Record<string, unknown>; expected: Record<Ordering, string> }[] = [
    {
      name: 'an array of more than 10 items',
      message: { items, payment: { id: 'p-1' } },
      expected: {
        'full-path-natural': [...natural, 'payment:id:p-1'].join(';'),
        'full-path-codepoint': [...byPath, 'payment:id:p-1'].join(';'),
        'whole-string-codepoint': [...byString, 'payment:id:p-1'].join(';'),
        'whole-string-utf16': [...byString, 'payment:id:p-1'].join(';'),
        'js-levelwise': [...natural, 'payment:id:p-1'].join(';'),
      },
    },
    {
      name: 'a key that extends a sibling object name',
      message: { a: { x: 1 }, 'a-b': 2, a_b: 3 },
      expected: {
        'full-path-natural': 'a-b:2;a:x:1;a_b:3',
        'full-path-codepoint': 'a-b:2;a:x:1;a_b:3',
        'whole-string-codepoint': 'a-b:2;a:x:1;a_b:3',
        'whole-string-utf16': 'a-b:2;a:x:1;a_b:3',
        'js-levelwise': 'a:x:1;a-b:2;a_b:3',
      },
    },
    {
      name: 'keys containing a colon',
      message: { 'a:b': 1, c: { 'd:e': 'f' } },
      expected: {
        'full-path-natural': 'a::b:1;c:d::e:f',
        'full-path-codepoint': 'a:b:1;c:d:e:f',
        'whole-string-codepoint': 'a:b:1;c:d:e:f',
        'whole-string-utf16': 'a:b:1;c:d:e:f',
        'js-levelwise': 'a:b:1;c:d:e:f',
      },
    },
    {
      name: 'numbers inside keys and white space',
      message: { x: { 'a 1': 'spaced', a1: 'plain', a01: 'zero', a10: 'ten', a2: 'two' } },
      expected: {
        'full-path-natural': 'x:a01:zero;x:a 1:spaced;x:a1:plain;x:a2:two;x:a10:ten',
        'full-path-codepoint': 'x:a 1:spaced;x:a01:zero;x:a1:plain;x:a10:ten;x:a2:two',
        'whole-string-codepoint': 'x:a 1:spaced;x:a01:zero;x:a10:ten;x:a1:plain;x:a2:two',
        'whole-string-utf16': 'x:a 1:spaced;x:a01:zero;x:a10:ten;x:a1:plain;x:a2:two',
        'js-levelwise': 'x:a 1:spaced;x:a01:zero;x:a1:plain;x:a10:ten;x:a2:two',
      },
    },
    {
      name: 'unicode keys (code points versus UTF-16 units)',
      message: { k: { '\ue000': 'private', '😀': 'emoji', é: 'e-acute' } },
      expected: {
        'full-path-natural': 'k:é:e-acute;k:\ue000:private;k:😀:emoji',
        'full-path-codepoint': 'k:é:e-acute;k:\ue000:private;k:😀:emoji',
        'whole-string-codepoint': 'k:é:e-acute;k:\ue000:private;k:😀:emoji',
        'whole-string-utf16': 'k:é:e-acute;k:😀:emoji;k:\ue000:private',
        'js-levelwise': 'k:é:e-acute;k:😀:emoji;k:\ue000:private',
      },
    },
  ];

  for (const { name, message, expected } of cases) {
    it(name, () => {
      for (const ordering of ORDERINGS) assert.equal(stringToSign(message, ordering), expected[ordering], ordering);
      assert.equal(stringToSignOfNpmSdk(message), expected['js-levelwise']);
    });

    it(`${name}: a signature made under any SDK ordering verifies; ours is natural`, () => {
      for (const ordering of ORDERINGS) {
        assert.equal(verify(message, hmacUnder(message, ordering, SECRET), SECRET), true, ordering);
      }
      assert.equal(sign(message, SECRET), hmacUnder(message, 'full-path-natural', SECRET));
    });
  }

  it('the signing ordering is full paths in natural order, and names each SDK', () => {
    assert.equal(SIGNING_ORDERING, 'full-path-natural');
    assert.equal(stringToSign({ b: 1, a: 2 }), stringToSign({ b: 1, a: 2 }, 'full-path-natural'));
    assert.deepEqual(SDK_ORDERINGS, {
      php: 'full-path-natural',
      python: 'full-path-codepoint',
      go: 'whole-string-codepoint',
      java: 'whole-string-utf16',
      javascript: 'js-levelwise',
    });
  });

  it('disagreeingOrderings names the SDKs that would reject our signature', () => {
    assert.deepEqual(disagreeingOrderings({ items: Array.from({ length: 11 }, (_, index) => index) }), [
      'full-path-codepoint',
      'whole-string-codepoint',
      'whole-string-utf16',
    ]);
    assert.deepEqual(disagreeingOrderings({ a: { b: 1 }, c: [1, 2] }), []);
  });

  it('the JS ordering drops __proto__ keys and puts integer keys first, as the npm SDK does', () => {
    const message = JSON.parse('{"b":{"__proto__":"s","c":3},"k":{"10":"a","9":"b","x":"c","07":"d"}}');
    assert.equal(stringToSign(message, 'js-levelwise'), 'b:c:3;k:9:b;k:10:a;k:07:d;k:x:c');
    assert.equal(stringToSign(message, 'js-levelwise'), stringToSignOfNpmSdk(message));
    assert.equal(stringToSign(message), 'b:__proto__:s;b:c:3;k:07:d;k:9:b;k:10:a;k:x:c');
  });

  it('natural comparison matches PHP strnatcmp (results recorded from PHP 8.2)', () => {
    const recorded: [string, string, number][] = [
      ['e:2', 'e:10', -1],
      ['img12', 'img10', 1],
      ['a01', 'a1', -1],
      ['a 1', 'a1', 0],
      ['x1y', 'x10', -1],
      ['0', '00', 0],
      ['007', '7', 0],
      ['a0.5', 'a0.25', -1],
      ['1.10', '1.9', 1],
      ['a', 'a:b', -1],
      ['a-b', 'a:x', -1],
      ['', 'a', -1],
      ['é', 'z', 1],
      ['abc', 'ABC', 1],
      ['x 2', ' x10', -1],
      ['a00b', 'a0b', 1],
    ];
    for (const [left, right, expected] of recorded) {
      assert.equal(naturalCompare(Buffer.from(left), Buffer.from(right)), expected, `${left} vs ${right}`);
    }
  });
});

// ---------------------------------------------------------------- algorithm rules

describe('string to sign', () => {
  it('booleans print 1/0, null and "" print empty, empty objects and arrays print nothing', () => {
    const message = { t: true, f: false, n: null, e: '', o: {}, a: [], nested: { deep: {} } };
    assert.equal(stringToSign(message), 'e:;f:0;n:;t:1');
  });

  it('ignores top-level keys starting with _ but keeps nested ones', () => {
    assert.equal(stringToSign({ _internal: 'x', _: 1, a: { _kept: 2 } }), 'a:_kept:2');
    assert.equal(sign({ _trace: 'abc', a: 1 }, SECRET), sign({ a: 1 }, SECRET));
  });

  it('ignores frame_mode at every depth', () => {
    const message = { frame_mode: 'popup', a: { frame_mode: 'iframe', b: 1, c: [{ frame_mode: 'x', d: 2 }] } };
    for (const ordering of ORDERINGS) assert.equal(stringToSign(message, ordering), 'a:b:1;a:c:0:d:2', ordering);
    assert.equal(sign(message, SECRET), sign({ a: { b: 1, c: [{ d: 2 }] } }, SECRET));
  });

  it('numbers print as JavaScript prints them; bigint amounts as digits; undefined is left out as JSON does', () => {
    assert.equal(stringToSign({ amount: 1999n, ratio: 1.5, zero: -0, skipped: undefined, list: [undefined] }), 'amount:1999;list:0:;ratio:1.5;zero:0');
  });

  it('signing accepts integers only; values JSON cannot carry are refused', () => {
    assert.throws(() => sign({ amount: 19.99 }, SECRET), SignatureInputUnsupportedError);
    assert.throws(() => stringToSign({ when: new Date(0) }), SignatureInputUnsupportedError);
    assert.throws(() => stringToSign({ amount: Number.NaN }), SignatureInputUnsupportedError);
    assert.throws(() => stringToSign('a string'), SignatureInputUnsupportedError);
  });

  it('unicode values sign and verify', () => {
    const message = { customer: { first_name: 'Zoë', city: '東京', note: 'café 😀' } };
    const signature = sign(message, 'sécret-😀');
    assert.equal(verify(message, signature, 'sécret-😀'), true);
    assert.equal(ecommpay.signer(message, 'sécret-😀'), signature);
  });
});

describe('verify', () => {
  const message = { payment: { id: 'p-1', amount: 1000 }, customer: { id: 'c-1' } };
  const signature = sign(message, SECRET);

  it('rejects a wrong secret and a tampered value', () => {
    assert.equal(verify(message, signature, SECRET), true);
    assert.equal(verify(message, signature, 'wrong-secret'), false);
    assert.equal(verify({ ...message, payment: { id: 'p-1', amount: 1001 } }, signature, SECRET), false);
    assert.equal(verify({ ...message, extra: 'x' }, signature, SECRET), false);
  });

  it('rejects signatures of another length, empty or missing, without throwing', () => {
    for (const candidate of ['', 'abc', signature.slice(0, -1), `${signature}=`, signature.repeat(3), `${signature} `]) {
      assert.equal(verify(message, candidate, SECRET), false, JSON.stringify(candidate));
    }
    assert.equal(verify(message, undefined, SECRET), false);
    assert.equal(verify(message, null, SECRET), false);
    assert.equal(verify(message, 12345 as unknown as string, SECRET), false);
  });

  it('accepts any secret of a rotation overlap, and only those', () => {
    const oldSignature = sign(message, 'old-secret');
    const newSignature = sign(message, 'new-secret');
    assert.equal(verify(message, oldSignature, ['new-secret', 'old-secret']), true);
    assert.equal(verify(message, newSignature, ['new-secret', 'old-secret']), true);
    assert.equal(verify(message, oldSignature, ['new-secret']), false);
    assert.equal(verify(message, oldSignature, 'new-secret'), false);
  });

  it('takes wrapped secrets and uses their revealed value, never their printed mask', () => {
    // The shape of src/domain/secret.ts, kept local so this test does not depend on that module.
    class Secret {
      readonly #value: string;
      constructor(value: string) {
        this.#value = value;
      }
      reveal(): string {
        return this.#value;
      }
      toString(): string {
        return '***';
      }
    }
    assert.equal(sign(message, new Secret(SECRET)), signature);
    assert.equal(verify(message, signature, [new Secret('new-secret'), new Secret(SECRET)]), true);
    assert.equal(verify(message, sign(message, '***'), new Secret(SECRET)), false);
    assert.throws(() => sign(message, new Secret('')), TypeError);
  });

  it('refuses an empty secret or an empty secret list as a configuration error', () => {
    assert.throws(() => verify(message, signature, []), TypeError);
    assert.throws(() => verify(message, signature, ''), TypeError);
    assert.throws(() => sign(message, ''), TypeError);
  });
});

describe('bounds', () => {
  function nested(depth: number): Record<string, unknown> {
    let value: Record<string, unknown> = { leaf: 'x' };
    for (let level = 1; level < depth; level++) value = { level: value };
    return value;
  }

  it('a leaf at the maximum depth is signed', () => {
    const message = nested(SIGNATURE_INPUT_LIMITS.depthMax);
    assert.equal(stringToSign(message).split(':').length, SIGNATURE_INPUT_LIMITS.depthMax + 1);
    assert.equal(verify(message, sign(message, SECRET), SECRET), true);
  });

  it('deeper nesting throws a typed error instead of exhausting the stack', () => {
    assert.throws(() => stringToSign(nested(SIGNATURE_INPUT_LIMITS.depthMax + 1)), SignatureInputTooLargeError);
    const hostile = nested(200_000);
    assert.throws(
      () => verifyGateRequest({ general: { signature: 'x' }, hostile }, SECRET),
      (error: unknown) => error instanceof SignatureInputTooLargeError && error.limit === 'depth',
    );
    const hostileArray = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000));
    assert.throws(() => verify({ a: hostileArray }, 'x', SECRET), SignatureInputTooLargeError);
  });

  it('too many entries throw a typed error, empty containers included', () => {
    const wide = Object.fromEntries(Array.from({ length: SIGNATURE_INPUT_LIMITS.entriesMax + 1 }, (_, index) => [`k${index}`, index]));
    assert.throws(
      () => stringToSign(wide),
      (error: unknown) => error instanceof SignatureInputTooLargeError && error.limit === 'entries',
    );
    const empties = { list: Array.from({ length: 1_000_000 }, () => ({})) };
    assert.throws(() => verify(empties, 'x', SECRET), SignatureInputTooLargeError);
    const atLimit = Object.fromEntries(Array.from({ length: SIGNATURE_INPUT_LIMITS.entriesMax }, (_, index) => [`k${index}`, index]));
    assert.equal(verify(atLimit, sign(atLimit, SECRET), SECRET), true);
  });
});

// ---------------------------------------------------------------- helpers

describe('Gate helpers', () => {
  const body = {
    general: { project_id: 42, payment_id: 'p-1' },
    payment: { amount: 1000, currency: 'USD' },
    frame_mode: 'popup',
  };

  it('signGateRequest sets general.signature over the body without it, and leaves the input alone', () => {
    const signed = signGateRequest(body, SECRET);
    assert.equal(signed.general.signature, sign(body, SECRET));
    assert.equal('signature' in body.general, false);
    assert.equal(signed.general.payment_id, 'p-1');
    assert.equal(verifyGateRequest(signed, SECRET), 'ok');
    const resigned = signGateRequest({ ...signed, general: { ...signed.general, signature: 'stale' } }, SECRET);
    assert.equal(resigned.general.signature, signed.general.signature);
    assert.equal(signGateRequest({ payment: { amount: 1 } }, SECRET).general.signature, sign({ payment: { amount: 1 } }, SECRET));
  });

  it('verifyGateRequest answers missing, invalid or ok', () => {
    const signed = signGateRequest(body, SECRET);
    assert.equal(verifyGateRequest({ payment: body.payment }, SECRET), 'missing');
    assert.equal(verifyGateRequest(body, SECRET), 'missing');
    assert.equal(verifyGateRequest({ ...body, general: { ...body.general, signature: '' } }, SECRET), 'missing');
    assert.equal(verifyGateRequest(null, SECRET), 'missing');
    assert.equal(verifyGateRequest('text', SECRET), 'missing');
    assert.equal(verifyGateRequest({ ...signed, payment: { amount: 1, currency: 'USD' } }, SECRET), 'invalid');
    assert.equal(verifyGateRequest({ ...signed, general: { ...signed.general, signature: 7 } }, SECRET), 'invalid');
    assert.equal(verifyGateRequest(signed, 'wrong'), 'invalid');
    assert.equal(verifyGateRequest(signed, ['wrong', SECRET]), 'ok');
    assert.equal(verifyGateRequest(JSON.parse(JSON.stringify(signed)), SECRET), 'ok');
  });

  it('the key is removed, not emptied: a body signed with general.signature "" is invalid', () => {
    const signedWithEmptyKey = createHmac('sha512', SECRET)
      .update(stringToSign({ ...body, general: { ...body.general, signature: '' } }))
      .digest('base64');
    assert.equal(verifyGateRequest({ ...body, general: { ...body.general, signature: signedWithEmptyKey } }, SECRET), 'invalid');
  });
});

describe('callback helpers', () => {
  it('signCallback sets the top-level signature over the body without it', () => {
    const [body] = REALISTIC_CALLBACKS;
    const signed = signCallback({ ...body, signature: 'stale' }, SECRET);
    const { signature, ...rest } = signed;
    assert.deepEqual(rest, body);
    assert.equal(signature, sign(body, SECRET));
    assert.equal(verifyCallback(signed, SECRET), true);
    assert.equal(verifyCallback({ ...signed, project_id: 211 }, SECRET), false);
    assert.equal(verifyCallback(body, SECRET), false);
  });
});

describe('Payment Page helpers', () => {
  const params = {
    project_id: '210',
    payment_id: 'order 7',
    payment_amount: '1999',
    payment_currency: 'EUR',
    recurring: '{"register":true,"type":"U"}',
    payment_methods_options: '{"paypal":{"intent":"capture"}}',
  };

  it('signPaymentPageParams and verifyPaymentPageQuery round-trip through a URL', () => {
    const signed = signPaymentPageParams(params, SECRET);
    const received = Object.fromEntries(new URLSearchParams(new URLSearchParams(signed).toString()));
    assert.equal(verifyPaymentPageQuery(received, SECRET), true);
    assert.equal(verifyPaymentPageQuery({ ...received, recurring: '{"register":false,"type":"U"}' }, SECRET), false);
    assert.equal(verifyPaymentPageQuery({ ...received, signature: '' }, SECRET), false);
    const { signature: _signature, ...withoutSignature } = received;
    assert.equal(verifyPaymentPageQuery(withoutSignature, SECRET), false);
  });

  it('JSON-valued parameters are signed as the raw strings received', () => {
    const signed = signPaymentPageParams(params, SECRET);
    assert.equal(signed.signature, sign(params, SECRET));
    assert.ok(stringToSign(params).includes('recurring:{"register":true,"type":"U"}'));
  });

  it('accepts true/True in the URL signed as 1 (npm and Python SDKs)', () => {
    const signature = sign({ ...params, close_on_missclick: true, redirect: false }, SECRET);
    for (const [yes, no] of [['true', 'false'], ['True', 'False']]) {
      assert.equal(verifyPaymentPageQuery({ ...params, close_on_missclick: yes, redirect: no, signature }, SECRET), true);
    }
    const signedAsText = signPaymentPageParams({ ...params, close_on_missclick: 'true' }, SECRET);
    assert.equal(verifyPaymentPageQuery(signedAsText, SECRET), true);
    assert.equal(verifyPaymentPageQuery({ ...params, close_on_missclick: 'yes', signature }, SECRET), false);
  });

  it('accepts a signature appended without URL-encoding (PHP SDK): its + arrive as spaces', () => {
    let signed = signPaymentPageParams(params, SECRET);
    for (let attempt = 0; attempt < 64 && !signed.signature.includes('+'); attempt++) {
      signed = signPaymentPageParams({ ...params, payment_id: `order ${attempt}` }, SECRET);
    }
    assert.ok(signed.signature.includes('+'));
    const { signature, ...unsigned } = signed;
    const query = `${new URLSearchParams(unsigned).toString()}&signature=${signature}`;
    const received = Object.fromEntries(new URLSearchParams(query));
    assert.ok(received.signature.includes(' '));
    assert.equal(verifyPaymentPageQuery(received, SECRET), true);
  });

  it('a repeated parameter (not a single string) fails the check without throwing', () => {
    const signed = signPaymentPageParams(params, SECRET);
    const repeated = { ...signed, payment_id: ['a', 'b'] } as unknown as Record<string, string>;
    assert.equal(verifyPaymentPageQuery(repeated, SECRET), false);
  });
});

describe('the strings a verifier tries', () => {
  // Keys that make the orderings disagree: digits of different lengths, leading zeros, case, non-ASCII (outside the BMP too), ':' and '__proto__'.
  const keyPool = ['a', 'B', 'b', 'ab', 'a_b', '1', '2', '10', '007', 'é', 'z', '😀', 'ｚ', 'a:b', '__proto__', 'amount', 'id', 'e'];
  const valuePool = ['', 'x', '1', 'é', 'a;b', 'A', '😀'];

  function random(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
      state = (state * 1664525 + 1013904223) >>> 0;
      return state / 2 ** 32;
    };
  }

  function message(next: () => number, depth: number, plainKeysOnly: boolean): Record<string, unknown> | unknown[] {
    const pick = <T>(pool: readonly T[]) => pool[Math.floor(next() * pool.length)];
    const value = (): unknown => (depth < 3 && next() < 0.3 ? message(next, depth + 1, plainKeysOnly) : next() < 0.3 ? Math.floor(next() * 100) : pick(valuePool));
    if (depth > 0 && next() < 0.25) return Array.from({ length: Math.floor(next() * 13) }, value);
    const keys = plainKeysOnly ? keyPool.filter((key) => !key.includes(':') && key !== '__proto__') : keyPool;
    const object: Record<string, unknown> = {};
    for (let count = 1 + Math.floor(next() * 6); count > 0; count--) Object.defineProperty(object, pick(keys), { value: value(), enumerable: true, configurable: true, writable: true });
    return object;
  }

  it('are exactly the distinct strings the orderings render, for 3,000 generated messages', async () => {
    const { collectLeaves, distinctStringsToSign, renderLeaves } = await import('../src/signature/string-to-sign.ts');
    const next = random(20261125);
    let shortcuts = 0;
    for (let index = 0; index < 3_000; index++) {
      const generated = message(next, 0, index % 2 === 0);
      const leaves = collectLeaves(generated, { integersOnly: false });
      const expected = new Set(ORDERINGS.map((ordering) => renderLeaves(leaves, ordering)));
      const tried = distinctStringsToSign(leaves);
      assert.deepEqual([...tried].sort(), [...expected].sort(), JSON.stringify(generated));
      if (expected.size === 1) shortcuts++;
    }
    // Both kinds were exercised: messages on which every ordering agrees, and messages on which some disagree.
    assert.ok(shortcuts > 100 && shortcuts < 2_900, `${shortcuts} of 3,000 messages had a single string`);
  });
});
