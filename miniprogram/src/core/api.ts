/**
 * The API client (API.md): JSON in and out, `Authorization: Bearer`, one `Idempotency-Key` per POST kept
 * across its retries, retries with backoff where repeating cannot do harm, 401 → log in again once.
 * No Taro import: the transport (Taro.request, or a fake in the tests) is given.
 */
import { ApiError, fromResponse, networkError } from './errors'
import { uuid4 } from './ids'

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE'

export interface HttpRequest {
  method: Method
  url: string
  headers: Record<string, string>
  data?: unknown
}

export interface HttpResponse {
  status: number
  data: unknown
  headers: Record<string, string>
}

/** Sends one request; resolves with any status, rejects only when nothing came back (network). */
export type Transport = (request: HttpRequest) => Promise<HttpResponse>

export interface Session {
  /** The current token, or null before the first login. */
  token(): string | null
  /** Log in again (wx.login → /auth/wechat-login) and return the new token; throws when it cannot. */
  renew(): Promise<string>
}

export interface ApiOptions {
  base: string
  transport: Transport
  session?: Session
  retries?: number
  sleep?: (ms: number) => Promise<void>
  newKey?: () => string
}

export interface CallOptions {
  query?: Record<string, string | number | boolean | undefined | null>
  body?: unknown
  /** The Idempotency-Key of a POST (a new one is made when not given). */
  key?: string
  /** No Authorization header (login itself). */
  anonymous?: boolean
}

export interface Page<T> {
  items: T[]
  page: number
  per_page: number
  total: number
}

/** Statuses worth another try: the server or a proxy was busy or down for a moment. */
const TRANSIENT = new Set([429, 502, 503, 504])
const MAX_WAIT_MS = 10_000

export function backoff(attempt: number, retryAfter?: string): number {
  const told = retryAfter !== undefined ? Number(retryAfter) : NaN
  if (Number.isFinite(told) && told >= 0) return Math.min(told * 1000, MAX_WAIT_MS)
  return Math.min(500 * 2 ** attempt, MAX_WAIT_MS)
}

export function queryString(query: CallOptions['query']): string {
  if (!query) return ''
  const parts = Object.entries(query)
    .filter(([, value]) => value !== undefined && value !== null && value !== '')
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`)
  return parts.length ? `?${parts.join('&')}` : ''
}

function header(headers: Record<string, string>, name: string): string | undefined {
  const wanted = name.toLowerCase()
  for (const [key, value] of Object.entries(headers || {})) if (key.toLowerCase() === wanted) return value
  return undefined
}

export class Api {
  private readonly base: string
  private readonly transport: Transport
  private readonly session?: Session
  private readonly retries: number
  private readonly sleep: (ms: number) => Promise<void>
  private readonly newKey: () => string

  constructor(options: ApiOptions) {
    this.base = options.base.replace(/\/+$/, '')
    this.transport = options.transport
    this.session = options.session
    this.retries = options.retries ?? 3
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)))
    this.newKey = options.newKey ?? (() => uuid4())
  }

  get<T>(path: string, query?: CallOptions['query']): Promise<T> {
    return this.call<T>('GET', path, { query })
  }

  post<T>(path: string, body?: unknown, options: Omit<CallOptions, 'body'> = {}): Promise<T> {
    return this.call<T>('POST', path, { ...options, body: body ?? {} })
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('PATCH', path, { body })
  }

  delete<T>(path: string): Promise<T> {
    return this.call<T>('DELETE', path, {})
  }

  /** One logical call: retried on a network failure or a transient status (a POST with its one key,
   * so the server replays instead of doing it twice), logged in again once on 401. */
  async call<T>(method: Method, path: string, options: CallOptions = {}): Promise<T> {
    const url = this.base + path + queryString(options.query)
    const headers: Record<string, string> = { Accept: 'application/json' }
    if (options.body !== undefined) headers['Content-Type'] = 'application/json'
    if (method === 'POST') headers['Idempotency-Key'] = options.key ?? this.newKey()
    let renewed = false
    for (let attempt = 0; ; attempt++) {
      const token = options.anonymous ? null : this.session?.token() ?? null
      const sent = { ...headers, ...(token ? { Authorization: `Bearer ${token}` } : {}) }
      let response: HttpResponse
      try {
        response = await this.transport({ method, url, headers: sent, data: options.body })
      } catch {
        if (attempt < this.retries) {
          await this.sleep(backoff(attempt))
          continue
        }
        throw networkError()
      }
      if (response.status === 401 && !options.anonymous && this.session && !renewed) {
        renewed = true
        await this.session.renew()
        attempt -= 1 // a new login is not a retry
        continue
      }
      if (TRANSIENT.has(response.status) && attempt < this.retries) {
        await this.sleep(backoff(attempt, header(response.headers, 'Retry-After')))
        continue
      }
      if (response.status >= 400) throw fromResponse(response.status, response.data)
      return response.data as T
    }
  }
}

export { ApiError }
