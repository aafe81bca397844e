import type { FastifyRequest } from 'fastify';
import { GateError } from '../domain/errors.ts';

/**
 * PostgreSQL text and jsonb cannot hold U+0000, so a NUL anywhere in a
 * request (a key or a value, at any depth) is refused up front as a format
 * error instead of failing deep inside a transaction. The walk is bounded
 * like the signature's; deeper bodies are refused too.
 */
const depthMax = 64;
const entriesMax = 20_000;

export async function refuseNulCharacters(request: FastifyRequest): Promise<void> {
  const body = request.body;
  if (body === null || typeof body !== 'object') return;
  const path = findNul(body);
  if (path !== undefined) throw new GateError('invalidFieldFormat', `${path || 'body'} contains a NUL character`);
}

function findNul(root: object): string | undefined {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: root, path: '', depth: 0 }];
  let entries = 0;
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return path;
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= depthMax) throw new GateError('invalidFieldFormat', 'the request is too deeply nested');
    for (const [key, child] of Object.entries(value)) {
      entries += 1;
      if (entries > entriesMax) throw new GateError('invalidFieldFormat', 'the request has too many fields');
      const childPath = path ? `${path}.${key}` : key;
      if (key.includes('\u0000')) return childPath;
      stack.push({ value: child, path: childPath, depth: depth + 1 });
    }
  }
  return undefined;
}
