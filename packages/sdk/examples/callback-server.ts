// In your project: import { CallbackFormatError, CallbackSignatureError, createCallbackHandler, type Callback } from '@gatehouse/sdk';
import { createServer, type Server } from 'node:http';
import { CallbackFormatError, CallbackSignatureError, createCallbackHandler, type Callback } from '../src/index.ts';

/**
 * Example: a callback endpoint on plain `node:http` (the README shows the
 * same handler in Express, Fastify and Next.js). It reads the raw body,
 * verifies and parses it, hands the callback on, and answers 200 only then:
 * anything else makes the platform retry.
 */
export interface CallbackServer {
  url: string;
  close(): Promise<void>;
}

export async function startCallbackServer(options: {
  secretKey: string;
  previousSecretKey?: string;
  onCallback: (callback: Callback) => void | Promise<void>;
  port?: number;
}): Promise<CallbackServer> {
  const handler = createCallbackHandler({ secretKey: options.secretKey, previousSecretKey: options.previousSecretKey });
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      try {
        const callback = handler.parse(Buffer.concat(chunks));
        await options.onCallback(callback);
        response.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
      } catch (error) {
        const refused = error instanceof CallbackSignatureError || error instanceof CallbackFormatError;
        response.writeHead(refused ? 400 : 500, { 'content-type': 'text/plain' }).end(refused ? 'rejected' : 'try again');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/gatehouse/callbacks`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
