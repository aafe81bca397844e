/**
 * A small client of the Dashboard API for scripts and tests: keeps the
 * session cookie and the CSRF token the way a browser app would (the React
 * dashboard does the same with fetch and `credentials: 'same-origin'`).
 *
 * @example
 * const dashboard = new DashboardClient('http://127.0.0.1:8080');
 * await dashboard.signIn('admin@shop.example', 'correct horse battery staple');
 * const { json } = await dashboard.get('/payments?status=success');
 */
export interface DashboardResponse {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
  text: string;
  headers: Headers;
}

export interface RequestOptions {
  /** Send this CSRF token instead of the session's (false: none). */
  csrfToken?: string | false;
  contentType?: string;
  /** A raw body (e.g. CSV) instead of JSON. */
  rawBody?: string;
}

export class DashboardClient {
  cookie: string | undefined;
  csrfToken: string | undefined;

  constructor(readonly baseUrl: string) {}

  async signIn(email: string, password: string): Promise<DashboardResponse> {
    const response = await this.request('POST', '/session', { email, password });
    if (response.status === 200) this.csrfToken = response.json.csrf_token;
    return response;
  }

  get(path: string, options?: RequestOptions) {
    return this.request('GET', path, undefined, options);
  }
  post(path: string, body: unknown = {}, options?: RequestOptions) {
    return this.request('POST', path, body, options);
  }
  patch(path: string, body: unknown, options?: RequestOptions) {
    return this.request('PATCH', path, body, options);
  }
  put(path: string, body: unknown, options?: RequestOptions) {
    return this.request('PUT', path, body, options);
  }
  delete(path: string, options?: RequestOptions) {
    return this.request('DELETE', path, undefined, options);
  }

  async request(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<DashboardResponse> {
    const headers: Record<string, string> = {};
    if (this.cookie) headers.cookie = this.cookie;
    const csrfToken = options.csrfToken === undefined ? this.csrfToken : options.csrfToken;
    if (csrfToken && method !== 'GET') headers['x-csrf-token'] = csrfToken;
    let payload: string | undefined;
    if (options.rawBody !== undefined) {
      payload = options.rawBody;
      headers['content-type'] = options.contentType ?? 'text/csv';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = options.contentType ?? 'application/json';
    }
    const response = await fetch(`${this.baseUrl}/dashboard/api${path}`, { method, headers, body: payload });
    const setCookie = response.headers.getSetCookie().find((value) => value.startsWith('gatehouse_session='));
    if (setCookie) {
      const value = setCookie.split(';')[0];
      this.cookie = value === 'gatehouse_session=' ? undefined : value;
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text && (response.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, json, text, headers: response.headers };
  }
}
