/**
 * The Dashboard API client (routes under /dashboard/api, see
 * src/dashboard/*.ts and docs/dashboard-api.md). The session lives in an
 * HttpOnly cookie the browser sends by itself; state-changing requests carry
 * the session's CSRF token in `x-csrf-token`. Errors arrive in the platform's
 * format `{status:"error", code, message, request_id}` and are thrown as
 * ApiError so screens can show the code and the request id.
 */
export const apiBase = '/dashboard/api';

export class ApiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: string,
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken: string | undefined;
let onSignedOut: (() => void) | undefined;

export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** Called when the API says the session is gone (code 7001), so the app can show the sign-in page. */
export function setSignedOutHandler(handler: (() => void) | undefined): void {
  onSignedOut = handler;
}

/** The URL of an API path, for links the browser follows itself (CSV downloads). */
export function apiUrl(path: string, query?: Record<string, string | undefined>): string {
  const parameters = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined && value !== '') parameters.set(key, value);
  const search = parameters.toString();
  return `${apiBase}${path}${search ? `?${search}` : ''}`;
}

export interface RequestOptions {
  /** A raw body (a CSV file) sent with this content type instead of JSON. */
  raw?: { body: Blob | string; contentType: string };
  signal?: AbortSignal;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export async function request<T>(method: Method, path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  let payload: BodyInit | undefined;
  if (options.raw) {
    payload = options.raw.body;
    headers['content-type'] = options.raw.contentType;
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(`${apiBase}${path}`, { method, headers, body: payload, credentials: 'same-origin', signal: options.signal });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, 'network', 'The server could not be reached. Check your connection and try again.');
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const error = (json ?? {}) as { code?: string; message?: string; request_id?: string };
    const failure = new ApiError(response.status, error.code ?? String(response.status), error.message ?? `The server answered ${response.status}`, error.request_id);
    if (failure.code === '7001') onSignedOut?.();
    throw failure;
  }
  return json as T;
}

export const api = {
  get: <T>(path: string, query?: Record<string, string | undefined>, options?: RequestOptions) =>
    request<T>('GET', apiUrl(path, query).slice(apiBase.length), undefined, options),
  post: <T>(path: string, body: unknown = {}, options?: RequestOptions) => request<T>('POST', path, body, options),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, body),
  delete: <T>(path: string) => request<T>('DELETE', path),
};

/** A path segment: payment ids are free UTF-8 and may contain "/", "?" or "#". */
export const segment = (value: string | number) => encodeURIComponent(String(value));
