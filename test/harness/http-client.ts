export interface HttpResponse {
  status: number;
  body: any;
  headers: Headers;
}

export type HttpRequest = (
  method: string,
  path: string,
  options?: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> },
) => Promise<HttpResponse>;

/** Requests to the API as a client would send them: JSON in, JSON (or text) out, with a bearer token. */
export function httpClient(baseUrl: string): HttpRequest {
  return async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(baseUrl + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON; keep the text
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
}
