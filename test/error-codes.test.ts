import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { errorCodes } from '../src/domain/errors.ts';

test('every registry code is documented in docs/error-codes.md with the same HTTP status and message', () => {
  const documented = new Map<string, { httpStatus: number; message: string }>();
  for (const line of readFileSync(new URL('../docs/error-codes.md', import.meta.url), 'utf8').split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    if (cells.length >= 5 && /^\d+$/.test(cells[1])) documented.set(cells[1], { httpStatus: Number(cells[2]), message: cells[3] });
  }
  const codes = Object.values(errorCodes).map((entry) => entry.code);
  assert.equal(new Set(codes).size, codes.length, 'codes are unique');
  for (const entry of Object.values(errorCodes)) {
    assert.deepEqual(documented.get(entry.code), { httpStatus: entry.httpStatus, message: entry.message }, `code ${entry.code}`);
  }
  assert.equal(documented.size, codes.length, 'no documented code is missing from the registry');
});
