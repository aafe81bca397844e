import http from 'node:http';

/**
 * A small keep-alive HTTP/1.1 client on node:http. The load generator shares
 * two cores with the platform and PostgreSQL, so it must cost little: no
 * fetch/undici per request, bodies signed before the clock starts, one
 * socket per concurrent client.
 */
export interface Response {
  status: number;
  location: string | undefined;
  body: string;
}

export const requestTimeoutMs = 30_000;

export function createAgent(maxSockets: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'fifo' });
}

export function request(
  agent: http.Agent,
  method: 'GET' | 'POST',
  url: string,
  body?: { contentType: string; text: string },
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const payload = body ? Buffer.from(body.text) : undefined;
    const outgoing = http.request(
      url,
      {
        method,
        agent,
        headers: payload ? { 'content-type': body!.contentType, 'content-length': payload.length } : {},
        timeout: requestTimeoutMs,
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () =>
          resolve({
            status: incoming.statusCode ?? 0,
            location: incoming.headers.location,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        incoming.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`${method} ${url} timed out after ${requestTimeoutMs} ms`)));
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}

/** At most `limit` tasks at once; the rest wait in arrival order. */
export class Limiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    // A finishing task hands its slot straight to the next waiter, so the limit holds exactly.
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running += 1;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}
