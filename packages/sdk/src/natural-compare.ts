/**
 * PHP's natural order comparison (`strnatcmp`, which `ksort($array, SORT_NATURAL)`
 * uses), ported byte for byte from php-src `ext/standard/strnatcmp.c` (PHP 7 and 8).
 *
 * The PHP SDK sorts the flattened signature paths with it, so "e:2" comes
 * before "e:10". PHP compares bytes of the UTF-8 encoding, and only ASCII
 * digits and ASCII white space are special; the callers therefore pass UTF-8
 * bytes, encoded once per key rather than once per comparison.
 *
 * Reading past the end of a string yields 0, as PHP reads the terminating
 * NUL byte of its strings.
 *
 * @example
 * naturalCompare(Buffer.from('e:2'), Buffer.from('e:10')) // -1
 */
export function naturalCompare(left: Uint8Array, right: Uint8Array): number {
  const leftLength = left.length;
  const rightLength = right.length;
  if (leftLength === 0 || rightLength === 0) return Math.sign(leftLength - rightLength);

  const cursor = { left: 0, right: 0 };
  let leading = true;
  // Every pass of the loop advances both cursors by at least one byte and the
  // loop returns once either cursor reaches its end, so it is bounded by the
  // shorter length.
  for (;;) {
    let leftByte = byteAt(left, cursor.left);
    let rightByte = byteAt(right, cursor.right);

    // Leading zeros of the whole string (not of later numbers) are skipped.
    while (leading && leftByte === ZERO && cursor.left + 1 < leftLength && isDigit(left[cursor.left + 1])) {
      leftByte = left[++cursor.left];
    }
    while (leading && rightByte === ZERO && cursor.right + 1 < rightLength && isDigit(right[cursor.right + 1])) {
      rightByte = right[++cursor.right];
    }
    leading = false;

    while (isSpace(leftByte)) leftByte = byteAt(left, ++cursor.left);
    while (isSpace(rightByte)) rightByte = byteAt(right, ++cursor.right);

    if (isDigit(leftByte) && isDigit(rightByte)) {
      // A run starting with 0 is compared as a fraction (left aligned),
      // any other run as an integer (longest run wins).
      const fractional = leftByte === ZERO || rightByte === ZERO;
      const result = fractional ? compareLeftAligned(left, right, cursor) : compareRightAligned(left, right, cursor);
      if (result !== 0) return result;
      if (cursor.left === leftLength && cursor.right === rightLength) return 0;
      leftByte = byteAt(left, cursor.left);
      rightByte = byteAt(right, cursor.right);
    }

    if (leftByte < rightByte) return -1;
    if (leftByte > rightByte) return 1;

    cursor.left++;
    cursor.right++;
    if (cursor.left >= leftLength && cursor.right >= rightLength) return 0;
    if (cursor.left >= leftLength) return -1;
    if (cursor.right >= rightLength) return 1;
  }
}

const ZERO = 0x30;

interface Cursor {
  left: number;
  right: number;
}

function byteAt(bytes: Uint8Array, index: number): number {
  return index < bytes.length ? bytes[index] : 0;
}

function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}

/** C `isspace` in the C locale: space, tab, line feed, vertical tab, form feed, carriage return. */
function isSpace(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);
}

function digitAt(bytes: Uint8Array, index: number): boolean {
  return index < bytes.length && isDigit(bytes[index]);
}

/** Integers: the longer run of digits wins; at equal length the first differing digit decides. */
function compareRightAligned(left: Uint8Array, right: Uint8Array, cursor: Cursor): number {
  let bias = 0;
  for (;; cursor.left++, cursor.right++) {
    const leftIsDigit = digitAt(left, cursor.left);
    const rightIsDigit = digitAt(right, cursor.right);
    if (!leftIsDigit && !rightIsDigit) return bias;
    if (!leftIsDigit) return -1;
    if (!rightIsDigit) return 1;
    if (bias === 0) {
      if (left[cursor.left] < right[cursor.right]) bias = -1;
      else if (left[cursor.left] > right[cursor.right]) bias = 1;
    }
  }
}

/** Fractions: the first differing digit wins; the shorter run of digits is smaller. */
function compareLeftAligned(left: Uint8Array, right: Uint8Array, cursor: Cursor): number {
  for (;; cursor.left++, cursor.right++) {
    const leftIsDigit = digitAt(left, cursor.left);
    const rightIsDigit = digitAt(right, cursor.right);
    if (!leftIsDigit && !rightIsDigit) return 0;
    if (!leftIsDigit) return -1;
    if (!rightIsDigit) return 1;
    if (left[cursor.left] < right[cursor.right]) return -1;
    if (left[cursor.left] > right[cursor.right]) return 1;
  }
}
