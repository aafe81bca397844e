import { inspect } from 'node:util';

const MASK = '***';

/**
 * A secret value (API secret, client secret, access token) that prints as `***`
 * everywhere a value usually leaks: string conversion, template literals,
 * `JSON.stringify`, `console.log` / `util.inspect`, and pino log objects.
 * The raw value comes out only through an explicit {@link Secret.reveal} call,
 * so a reviewer can find every place that handles it with one search.
 *
 * The value is kept in an ECMAScript private field, so it is not an own
 * enumerable property either: `Object.keys`, spreading and `structuredClone`
 * do not copy it.
 *
 * @example
 * const clientSecret = new Secret(process.env.PAYPAL_CLIENT_SECRET ?? '');
 * console.log({ clientSecret });           // { clientSecret: *** }
 * JSON.stringify({ clientSecret });        // '{"clientSecret":"***"}'
 * `${clientSecret}`;                       // '***'
 * const basic = Buffer.from(`id:${clientSecret.reveal()}`).toString('base64');
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    if (typeof value !== 'string') throw new TypeError('a Secret wraps a string');
    this.#value = value;
  }

  /** The raw value. Call it only where the value is sent to its one rightful receiver. */
  reveal(): string {
    return this.#value;
  }

  /** True when the wrapped value is the empty string (a missing configuration value). */
  isEmpty(): boolean {
    return this.#value.length === 0;
  }

  toString(): string {
    return MASK;
  }

  toJSON(): string {
    return MASK;
  }

  [inspect.custom](): string {
    return MASK;
  }

  [Symbol.toPrimitive](): string {
    return MASK;
  }
}
