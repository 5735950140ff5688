import { describe, expect, it } from 'vitest'
import { Api, HttpRequest, HttpResponse, Session, backoff, queryString } from '../../src/core/api'
import { ApiError, messageOf } from '../../src/core/errors'

function fake(answers: Array<HttpResponse | 'network'>) {
  const sent: HttpRequest[] = []
  const transport = async (request: HttpRequest) => {
    sent.push(request)
    const answer = answers.shift()
    if (answer === undefined) throw new Error('no answer left')
    if (answer === 'network') throw new Error('ECONNRESET')
    return answer
  }
  return { sent, transport }
}

const ok = (data: unknown, status = 200): HttpResponse => ({ status, data, headers: {} })
const waits: number[] = []
const sleep = async (ms: number) => { waits.push(ms) }

describe('the API client', () => {
  it('sends one Idempotency-Key per POST and keeps it across retries', async () => {
    const { sent, transport } = fake(['network', ok({}, 503), ok({ id: 7 }, 201)])
    let n = 0
    const api = new Api({ base: 'https://x.example/api/v1/', transport, sleep, newKey: () => `key-${++n}` })
    const made = await api.post<{ id: number }>('/shops/1/cleanings', { note: 'a' })
    expect(made.id).toBe(7)
    expect(sent).toHaveLength(3)
    expect(sent.map((r) => r.headers['Idempotency-Key'])).toEqual(['key-1', 'key-1', 'key-1'])
    expect(sent[0].url).toBe('https://x.example/api/v1/shops/1/cleanings')
    const second = fake([ok({ id: 8 }, 201)])
    const again = new Api({ base: 'https://x.example/api/v1', transport: second.transport, sleep, newKey: () => `key-${++n}` })
    await again.post('/shops/1/cleanings', {})
    expect(second.sent[0].headers['Idempotency-Key']).toBe('key-2') // a new logical request, a new key
  })

  it('gives up after its retries with the Chinese network message', async () => {
    const { sent, transport } = fake(['network', 'network', 'network', 'network'])
    const api = new Api({ base: '/api/v1', transport, sleep, retries: 3 })
    const failure = await api.get('/me').catch((e) => e)
    expect(failure).toBeInstanceOf(ApiError)
    expect(failure.status).toBe(0)
    expect(messageOf(failure)).toBe('网络连接失败，请检查网络后重试')
    expect(sent).toHaveLength(4)
  })

  it('waits as Retry-After says on 429, else backs off exponentially', async () => {
    expect(backoff(0)).toBe(500)
    expect(backoff(2)).toBe(2000)
    expect(backoff(10)).toBe(10000)
    expect(backoff(0, '3')).toBe(3000)
    waits.length = 0
    const { transport } = fake([{ status: 429, data: {}, headers: { 'retry-after': '2' } }, ok([])])
    await new Api({ base: '/api/v1', transport, sleep }).get('/me/notifications')
    expect(waits).toEqual([2000])
  })

  it('does not retry a refusal and maps the error shape', async () => {
    const body = { error: { code: 'validation_failed', message: '提交的数据有误', fields: { uscc: ['统一社会信用代码校验位错误'] } } }
    const { sent, transport } = fake([ok(body, 422)])
    const failure = await new Api({ base: '/api/v1', transport, sleep }).post('/shops', {}).catch((e) => e)
    expect(sent).toHaveLength(1)
    expect(failure.code).toBe('validation_failed')
    expect(failure.message).toBe('提交的数据有误')
    expect(failure.field('uscc')).toBe('统一社会信用代码校验位错误')
  })

  it('never shows a code or a stack when the body is not the API shape', async () => {
    const { transport } = fake([{ status: 500, data: '<html>Traceback (most recent call last)</html>', headers: {} }])
    const failure = await new Api({ base: '/api/v1', transport, sleep, retries: 0 }).get('/me').catch((e) => e)
    expect(failure.message).toBe('服务器出错了，请稍后再试')
    expect(messageOf(new TypeError('x is undefined'))).toBe('出错了，请稍后再试')
  })

  it('logs in again once on 401 and repeats the call with the new token', async () => {
    let token = 'old'
    let renewals = 0
    const session: Session = { token: () => token, renew: async () => { renewals++; token = 'new'; return token } }
    const { sent, transport } = fake([ok({ error: { code: 'unauthorized' } }, 401), ok({ id: 1 })])
    const me = await new Api({ base: '/api/v1', transport, session, sleep }).get<{ id: number }>('/me')
    expect(me.id).toBe(1)
    expect(renewals).toBe(1)
    expect(sent.map((r) => r.headers.Authorization)).toEqual(['Bearer old', 'Bearer new'])
    const twice = fake([ok({}, 401), ok({}, 401)])
    const failure = await new Api({ base: '/api/v1', transport: twice.transport, session, sleep }).get('/me').catch((e) => e)
    expect(failure.status).toBe(401) // a second 401 is an answer, not a loop
    expect(twice.sent).toHaveLength(2)
  })

  it('writes the query string without empty values', () => {
    expect(queryString({ status: 'pending', page: 2, q: '', x: undefined, y: null })).toBe('?status=pending&page=2')
    expect(queryString({ q: '烧烤 店' })).toBe('?q=%E7%83%A7%E7%83%A4%20%E5%BA%97')
    expect(queryString(undefined)).toBe('')
  })
})
