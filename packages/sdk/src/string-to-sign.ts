/**
 * (A copy of Gatehouse's `src/signature/string-to-sign.ts`: the SDK stands
 * alone; `test/sdk.test.ts` checks both against the SDKs' published vectors.)
 *
 * The string that ecommpay signatures are computed over, in each of the ways
 * the official SDKs build it.
 *
 * Every SDK flattens the message to `path:value` items, one per scalar leaf,
 * and joins them with `;`. They agree on ordinary messages and disagree on
 * rare edge cases, because each sorts differently and only the PHP SDK
 * escapes `:` inside keys. The SDK code this reproduces:
 *
 * | ordering                 | SDK                                   | sorts                                      | `:` in a key |
 * |--------------------------|---------------------------------------|--------------------------------------------|--------------|
 * | `full-path-natural`      | PHP `SignatureHandler`                | full paths, `ksort(SORT_NATURAL)`          | written `::` |
 * | `full-path-codepoint`    | Python `signature_handler.py`         | full paths, by code point (`sorted`)       | kept as is   |
 * | `whole-string-codepoint` | Go `signature-handler.go`             | whole `path:value` strings, bytewise       | kept as is   |
 * | `whole-string-utf16`     | Java `SignatureHandler.java`          | whole strings, UTF-16 units (`compareTo`)  | kept as is   |
 * | `js-levelwise`           | npm `ecommpay` `src/converter.js`     | keys level by level, JS object key order   | kept as is   |
 *
 * Where they differ:
 * - arrays of more than 10 items: natural and JS order give 0,1,2,...,10;
 *   Python gives 0,1,10,2 ("e:1" < "e:10" < "e:2"); Go and Java give
 *   0,10,1,2 ("e:10:x" < "e:1:y" because "0" < ":");
 * - a key that extends a sibling object's name with a character below `:`
 *   (`a` object beside `a-b` scalar): full paths put "a-b" before "a:x",
 *   level by level puts the whole `a` object first;
 * - keys containing `:`: only PHP escapes them;
 * - two paths that collide once unescaped (`{"a:b":1}` beside `{"a":{"b":2}}`):
 *   the map-based SDKs (PHP, Python, Go, Java) keep the last, JS keeps both;
 * - the JS SDK drops every `__proto__` key (it copies into a plain object,
 *   where that assignment sets the prototype instead of a property), and it
 *   visits integer-like keys first in numeric order (`Object.entries` order),
 *   which is why its arrays come out in natural order.
 *
 * Rules common to all, as platform.md fixes them: skip `frame_mode` at any
 * depth and top-level keys starting with `_`; `true`/`false` print `1`/`0`;
 * `null` prints as empty (the Python SDK would print `None` and the JS SDK's
 * `Callback` crashes on it: signers should avoid nulls); empty objects and
 * arrays print nothing; numbers print as JavaScript prints them.
 *
 * Not reproduced, on purpose: old PHP SDK releases that cut nesting at depth
 * 3 and lowercased keys (superseded; API keys are lowercase and Gate bodies
 * are shallow), and PHP's `array_merge` renumbering of integer top-level keys
 * (the API has none).
 */
import { Buffer } from 'node:buffer';
import { naturalCompare } from './natural-compare.ts';
import { SIGNATURE_INPUT_LIMITS, SignatureInputTooLargeError, SignatureInputUnsupportedError } from './errors.ts';

export const ORDERINGS = [
  'full-path-natural',
  'full-path-codepoint',
  'whole-string-codepoint',
  'whole-string-utf16',
  'js-levelwise',
] as const;

export type Ordering = (typeof ORDERINGS)[number];

/** What we sign with: full paths, natural sort, as platform.md says (the PHP SDK's way). */
export const SIGNING_ORDERING: Ordering = 'full-path-natural';

/** Which ordering reproduces which official SDK. */
export const SDK_ORDERINGS = {
  php: 'full-path-natural',
  python: 'full-path-codepoint',
  go: 'whole-string-codepoint',
  java: 'whole-string-utf16',
  javascript: 'js-levelwise',
} as const satisfies Record<string, Ordering>;

const IGNORED_KEY = 'frame_mode';
const PATH_SEPARATOR = ':';
const ITEM_SEPARATOR = ';';

/** One scalar leaf: the keys leading to it, unescaped, and its printed value. */
export interface Leaf {
  readonly segments: readonly string[];
  readonly value: string;
}

export interface CollectOptions {
  /** Reject numbers that are not integers (what we sign carries integers only). */
  readonly integersOnly: boolean;
}

/**
 * Flattens a message into its leaves, in the message's own key order.
 *
 * @throws SignatureInputTooLargeError past {@link SIGNATURE_INPUT_LIMITS}
 * @throws SignatureInputUnsupportedError on a value JSON cannot carry
 */
export function collectLeaves(message: unknown, options: CollectOptions): Leaf[] {
  if (!isContainer(message)) {
    throw new SignatureInputUnsupportedError('', 'the message must be an object');
  }
  const walk: Walk = { leaves: [], entriesVisited: 0, integersOnly: options.integersOnly };
  visitContainer(walk, message, []);
  return walk.leaves;
}

/**
 * The string to sign for `message` under `ordering`.
 *
 * @example
 * stringToSign({ general: { project_id: 1, payment_id: 'p-1' }, frame_mode: 'popup' })
 * // 'general:payment_id:p-1;general:project_id:1'
 */
export function stringToSign(message: unknown, ordering: Ordering = SIGNING_ORDERING): string {
  return renderLeaves(collectLeaves(message, { integersOnly: false }), ordering);
}

/** Joins already collected leaves the way `ordering` does. */
export function renderLeaves(leaves: readonly Leaf[], ordering: Ordering): string {
  switch (ordering) {
    case 'full-path-natural':
      return joinItems(sortByPath(keepLastPerPath(leaves, escapeColons), naturalCompare));
    case 'full-path-codepoint':
      return joinItems(sortByPath(keepLastPerPath(leaves, keepSegment), compareBytes));
    case 'whole-string-codepoint':
      return joinItems(sortByItemBytes(keepLastPerPath(leaves, keepSegment)));
    case 'whole-string-utf16':
      return joinItems(sortByItemCodeUnits(keepLastPerPath(leaves, keepSegment)));
    case 'js-levelwise':
      return joinItems(sortLevelwise(leaves));
    default:
      return assertNever(ordering);
  }
}

/**
 * Every distinct string `leaves` give under the orderings: what a verifier
 * tries. Ordinary messages (no `:` in a key, no `__proto__` key) give every
 * ordering the same items, only perhaps in another order, so they are
 * sorted once (our ordering) and another ordering is rendered only when that
 * order is not already strictly ascending by its comparator (it would sort
 * to the same sequence); equal to rendering each ordering, at about a fifth
 * of the cost.
 *
 * @example
 * distinctStringsToSign(collectLeaves({ general: { project_id: 1 } }, { integersOnly: false })) // Set { 'general:project_id:1' }
 */
export function distinctStringsToSign(leaves: readonly Leaf[]): Set<string> {
  if (!leaves.every(hasPlainSegments)) return new Set(ORDERINGS.map((ordering) => renderLeaves(leaves, ordering)));
  const entries = leaves.map((leaf) => {
    const path = leaf.segments.join(PATH_SEPARATOR);
    const item = path + PATH_SEPARATOR + leaf.value;
    return { segments: leaf.segments, item, pathBytes: Buffer.from(path, 'utf8'), itemBytes: Buffer.from(item, 'utf8') };
  });
  type Entry = (typeof entries)[number];
  entries.sort((left, right) => naturalCompare(left.pathBytes, right.pathBytes));
  const strings = new Set([entries.map(({ item }) => item).join(ITEM_SEPARATOR)]);
  const others: [Ordering, (left: Entry, right: Entry) => number][] = [
    ['full-path-codepoint', (left, right) => compareBytes(left.pathBytes, right.pathBytes)],
    ['whole-string-codepoint', (left, right) => compareBytes(left.itemBytes, right.itemBytes)],
    ['whole-string-utf16', (left, right) => compareCodeUnits(left.item, right.item)],
    ['js-levelwise', (left, right) => compareKeySequences(left.segments, right.segments)],
  ];
  for (const [ordering, compare] of others) {
    if (!strictlyAscending(entries, compare)) strings.add(renderLeaves(leaves, ordering));
  }
  return strings;
}

/** No segment that an ordering writes or drops differently: `:` (escaped by one ordering only, and able to merge paths) or `__proto__`. */
function hasPlainSegments(leaf: Leaf): boolean {
  return leaf.segments.every((segment) => !segment.includes(PATH_SEPARATOR) && segment !== '__proto__');
}

function strictlyAscending<T>(items: readonly T[], compare: (left: T, right: T) => number): boolean {
  for (let index = 1; index < items.length; index++) {
    if (compare(items[index - 1], items[index]) >= 0) return false;
  }
  return true;
}

interface Walk {
  readonly leaves: Leaf[];
  entriesVisited: number;
  readonly integersOnly: boolean;
}

type Container = Record<string, unknown> | unknown[];

function visitContainer(walk: Walk, container: Container, segments: readonly string[]): void {
  const isArray = Array.isArray(container);
  const keys = Object.keys(container);
  for (const key of keys) {
    walk.entriesVisited++;
    if (walk.entriesVisited > SIGNATURE_INPUT_LIMITS.entriesMax) {
      throw new SignatureInputTooLargeError('entries', SIGNATURE_INPUT_LIMITS.entriesMax);
    }
    if (!isArray && key === IGNORED_KEY) continue;
    if (segments.length === 0 && key.startsWith('_')) continue;

    let value = (container as Record<string, unknown>)[key];
    // JSON.stringify drops undefined properties and writes undefined items
    // as null; sign what will be sent.
    if (value === undefined) {
      if (!isArray) continue;
      value = null;
    }
    const path = [...segments, key];
    if (isContainer(value)) {
      if (path.length >= SIGNATURE_INPUT_LIMITS.depthMax) {
        throw new SignatureInputTooLargeError('depth', SIGNATURE_INPUT_LIMITS.depthMax);
      }
      visitContainer(walk, value, path);
    } else {
      walk.leaves.push({ segments: path, value: printScalar(value, path, walk.integersOnly) });
    }
  }
}

function isContainer(value: unknown): value is Container {
  if (Array.isArray(value)) return true;
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function printScalar(value: unknown, path: readonly string[], integersOnly: boolean): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'boolean':
      return value ? '1' : '0';
    case 'bigint':
      return value.toString();
    case 'number':
      if (!Number.isFinite(value)) {
        throw new SignatureInputUnsupportedError(path.join(PATH_SEPARATOR), `${value} is not a JSON number`);
      }
      if (integersOnly && !Number.isInteger(value)) {
        throw new SignatureInputUnsupportedError(path.join(PATH_SEPARATOR), `${value} is not an integer`);
      }
      return String(value);
    case 'object':
      if (value === null) return '';
      throw new SignatureInputUnsupportedError(path.join(PATH_SEPARATOR), 'only plain objects and arrays nest');
    default:
      throw new SignatureInputUnsupportedError(path.join(PATH_SEPARATOR), `a ${typeof value} is not a JSON value`);
  }
}

interface Item {
  readonly path: string;
  readonly item: string;
}

function keepSegment(segment: string): string {
  return segment;
}

function escapeColons(segment: string): string {
  return segment.replaceAll(PATH_SEPARATOR, PATH_SEPARATOR + PATH_SEPARATOR);
}

/**
 * The map-based SDKs store items under their path, so a later item with the
 * same path replaces an earlier one but keeps its place.
 */
function keepLastPerPath(leaves: readonly Leaf[], writeSegment: (segment: string) => string): Item[] {
  const items: Item[] = [];
  const indexByPath = new Map<string, number>();
  for (const leaf of leaves) {
    const path = leaf.segments.map(writeSegment).join(PATH_SEPARATOR);
    const item = { path, item: path + PATH_SEPARATOR + leaf.value };
    const index = indexByPath.get(path);
    if (index === undefined) {
      indexByPath.set(path, items.length);
      items.push(item);
    } else {
      items[index] = item;
    }
  }
  return items;
}

/** Stable sort on the paths' UTF-8 bytes (PHP 8's sort is stable; ties only arise in natural order). */
function sortByPath(items: readonly Item[], compare: (left: Uint8Array, right: Uint8Array) => number): Item[] {
  const keyed = items.map((item) => ({ item, key: Buffer.from(item.path, 'utf8') }));
  keyed.sort((left, right) => compare(left.key, right.key));
  return keyed.map(({ item }) => item);
}

/** Sort on the whole `path:value` strings' UTF-8 bytes. */
function sortByItemBytes(items: readonly Item[]): Item[] {
  const keyed = items.map((item) => ({ item, key: Buffer.from(item.item, 'utf8') }));
  keyed.sort((left, right) => compareBytes(left.key, right.key));
  return keyed.map(({ item }) => item);
}

/** Sort on the whole `path:value` strings' UTF-16 code units. */
function sortByItemCodeUnits(items: readonly Item[]): Item[] {
  return [...items].sort((left, right) => compareCodeUnits(left.item, right.item));
}

/** UTF-8 byte order, which is code point order (Go's `sort.Strings`, Python's `str` comparison). */
function compareBytes(left: Uint8Array, right: Uint8Array): number {
  return Buffer.compare(left, right);
}

/** UTF-16 code unit order (Java's `String.compareTo`, JavaScript's default sort). */
function compareCodeUnits(left: string, right: string): number {
  if (left < right) return -1;
  return left > right ? 1 : 0;
}

/**
 * The npm SDK sorts each object's keys and recurses, which orders the leaves
 * by their key sequences. It copies each level into a plain object first, so
 * the walk follows JavaScript's own-key order: integer-like keys ascending as
 * numbers, then the other keys as sorted; and a `__proto__` key is lost.
 */
function sortLevelwise(leaves: readonly Leaf[]): Item[] {
  const kept = leaves.filter((leaf) => !leaf.segments.includes('__proto__'));
  const sorted = [...kept].sort((left, right) => compareKeySequences(left.segments, right.segments));
  return sorted.map((leaf) => {
    const path = leaf.segments.join(PATH_SEPARATOR);
    return { path, item: path + PATH_SEPARATOR + leaf.value };
  });
}

function compareKeySequences(left: readonly string[], right: readonly string[]): number {
  const shared = Math.min(left.length, right.length);
  for (let index = 0; index < shared; index++) {
    const result = compareJavaScriptKeys(left[index], right[index]);
    if (result !== 0) return result;
  }
  return left.length - right.length;
}

function compareJavaScriptKeys(left: string, right: string): number {
  const leftIndex = arrayIndexOf(left);
  const rightIndex = arrayIndexOf(right);
  if (leftIndex !== undefined && rightIndex !== undefined) return leftIndex - rightIndex;
  if (leftIndex !== undefined) return -1;
  if (rightIndex !== undefined) return 1;
  return compareCodeUnits(left, right);
}

const ARRAY_INDEX_MAX = 2 ** 32 - 2;

/** The number a key stands for when JavaScript treats it as an array index ("7", not "07" or "-1"). */
function arrayIndexOf(key: string): number | undefined {
  if (key.length === 0 || key.length > 10) return undefined;
  if (!/^(?:0|[1-9][0-9]*)$/.test(key)) return undefined;
  const index = Number(key);
  return index <= ARRAY_INDEX_MAX ? index : undefined;
}

function joinItems(items: readonly Item[]): string {
  return items.map(({ item }) => item).join(ITEM_SEPARATOR);
}

function assertNever(value: never): never {
  throw new Error(`unhandled ordering: ${String(value)}`);
}
