/**
 * A small typed fetch helper for the console's /api routes. Errors come back as
 * application/problem+json ({ title, status, detail }); they are turned into an
 * ApiError whose message is the problem's detail (or title).
 */

export class ApiError extends Error {
  readonly status: number;
  readonly title: string;

  constructor(status: number, title: string, detail: string) {
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.title = title;
  }
}

interface Problem {
  title?: unknown;
  status?: unknown;
  detail?: unknown;
}

async function toError(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  let title = res.statusText || `HTTP ${res.status}`;
  let detail = text.trim();
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('json') && text) {
    try {
      const p = JSON.parse(text) as Problem;
      if (typeof p.title === 'string' && p.title) title = p.title;
      if (typeof p.detail === 'string' && p.detail) detail = p.detail;
      else detail = title;
    } catch {
      /* not JSON after all: keep the text */
    }
  }
  if (!detail) detail = title;
  return new ApiError(res.status, title, detail.length > 2000 ? `${detail.slice(0, 2000)}…` : detail);
}

export interface RequestOptions {
  signal?: AbortSignal | undefined;
  /** Sent as `Authorization: Bearer <token>` when set. */
  token?: string | null | undefined;
}

async function request<T>(method: 'GET' | 'POST', path: string, body: unknown, opts: RequestOptions): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const init: RequestInit = { method, headers };
  if (body !== undefined) init.body = JSON.stringify(body);
  if (opts.signal) init.signal = opts.signal;
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch (err) {
    if (isAbort(err)) throw err;
    throw new ApiError(0, 'Network error', `Cannot reach the console server (${String(err)})`);
  }
  if (!res.ok) throw await toError(res);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export function apiGet<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  return request<T>('GET', path, undefined, opts);
}

export function apiPost<T>(path: string, body: unknown = {}, opts: RequestOptions = {}): Promise<T> {
  return request<T>('POST', path, body, opts);
}

export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError';
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Builds `path?query`, skipping empty values. */
export function withQuery(path: string, params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === '') continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** One path segment, encoded. */
export const seg = (s: string | number): string => encodeURIComponent(String(s));
