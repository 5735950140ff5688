import { describe, expect, it } from 'vitest'
import { Draft, DraftPhoto, DraftQueue, DraftStore, Sender, photoKey, recordKey } from '../../src/core/drafts'
import { ApiError } from '../../src/core/errors'

class MemoryStore implements DraftStore {
  drafts = new Map<string, Draft>()
  removed: string[] = []
  async list() { return [...this.drafts.values()].map((d) => JSON.parse(JSON.stringify(d)) as Draft) }
  async save(draft: Draft) { this.drafts.set(draft.id, JSON.parse(JSON.stringify(draft))) }
  async remove(draft: Draft) { this.drafts.delete(draft.id); this.removed.push(draft.id) }
}

/** A server that keeps what each Idempotency-Key made (replays it), and can be told to fail. */
class FakeServer implements Sender {
  records = new Map<string, { path: string; body: unknown }>()
  photos = new Map<string, number>()
  calls: string[] = []
  failNext: Array<ApiError | 'lost-answer' | 'network'> = []

  private trouble(stored: () => void) {
    const next = this.failNext.shift()
    if (next === undefined) return
    if (next === 'lost-answer') { stored(); throw new ApiError(0, 'network', '网络连接失败，请检查网络后重试') }
    if (next === 'network') throw new ApiError(0, 'network', '网络连接失败，请检查网络后重试')
    throw next
  }

  async uploadPhoto(_photo: DraftPhoto, key: string) {
    this.calls.push(`photo ${key}`)
    const store = () => { if (!this.photos.has(key)) this.photos.set(key, this.photos.size + 100) }
    this.trouble(store)
    store()
    return { id: this.photos.get(key)! }
  }

  async post(path: string, body: unknown, key: string) {
    this.calls.push(`post ${key}`)
    const store = () => { if (!this.records.has(key)) this.records.set(key, { path, body }) }
    this.trouble(store)
    store()
    return this.records.get(key)
  }
}

function inspection(id: string, createdAt: string, photos = 2) {
  return {
    id, path: '/shops/7/inspections', createdAt,
    body: { inspected_at: createdAt, lat: 35.4, lng: 116.6, items: [{ code: 'P1', result: 'fail' }, { code: 'W2', result: 'pass' }] },
    photos: Array.from({ length: photos }, (_, i) => ({ path: `usr/${id}-${i}.jpg`, size: 1000, field: 'P1' }))
  }
}

describe('the offline drafts', () => {
  it('sends the oldest first, photos before the record, and the record carries their ids', async () => {
    const store = new MemoryStore()
    const server = new FakeServer()
    const queue = new DraftQueue(store, server)
    await queue.add(inspection('b', '2026-12-07T10:05:00+08:00', 1))
    await queue.add(inspection('a', '2026-12-07T10:00:00+08:00', 2))
    expect(await queue.flush()).toEqual({ sent: 2, refused: 0, waiting: 0 })
    expect(server.calls).toEqual(['photo a-p0', 'photo a-p1', 'post a-r', 'photo b-p0', 'post b-r'])
    const body = server.records.get('a-r')!.body as { items: Array<{ code: string; photo_ids?: number[] }>; inspected_at: string }
    expect(body.items[0].photo_ids).toEqual([100, 101])
    expect(body.items[1].photo_ids).toBeUndefined()
    expect(body.inspected_at).toBe('2026-12-07T10:00:00+08:00') // the time of the check, not of sending
    expect(store.removed).toEqual(['a', 'b'])
  })

  it('a lost answer is retried with the same keys and makes one record', async () => {
    const store = new MemoryStore()
    const server = new FakeServer()
    let now = 1_000_000
    const queue = new DraftQueue(store, server, { now: () => now })
    const draft = await queue.add(inspection('a', '2026-12-07T10:00:00+08:00'))
    const upload = server.uploadPhoto.bind(server)
    const post = server.post.bind(server)
    let uploads = 0
    let posts = 0
    server.uploadPhoto = async (photo, key) => { if (++uploads === 2) server.failNext.push('lost-answer'); return upload(photo, key) }
    server.post = async (path, body, key) => { if (++posts === 1) server.failNext.push('lost-answer'); return post(path, body, key) }
    // 1: the first photo goes; the second is stored but its answer lost.
    expect(await queue.flush()).toEqual({ sent: 0, refused: 0, waiting: 1 })
    const kept = (await store.list())[0]
    expect(kept.photos.map((p) => p.uploadedId)).toEqual([100, undefined]) // the first is not sent again
    expect(kept.attempts).toBe(1)
    expect(await queue.flush()).toEqual({ sent: 0, refused: 0, waiting: 1 }) // backing off: nothing tried
    // 2: the second photo again (replayed: same id), then the record, stored, its answer lost.
    now += 60_000
    expect(await queue.flush()).toEqual({ sent: 0, refused: 0, waiting: 1 })
    // 3: the record again: replayed, done.
    now += 60_000
    expect(await queue.flush()).toEqual({ sent: 1, refused: 0, waiting: 0 })
    expect(server.photos.size).toBe(2)
    expect(server.records.size).toBe(1)
    expect(server.calls.filter((c) => c === `post ${recordKey(draft)}`)).toHaveLength(2)
    expect(server.calls.filter((c) => c === `photo ${photoKey(draft, 0)}`)).toHaveLength(1)
    expect(server.calls.filter((c) => c === `photo ${photoKey(draft, 1)}`)).toHaveLength(2)
    const body = server.records.get(recordKey(draft))!.body as { items: Array<{ photo_ids?: number[] }> }
    expect(body.items[0].photo_ids).toEqual([100, 101])
  })

  it('a refusal keeps the draft with the message and the field; a 409 waits; a down network stops the flush', async () => {
    const store = new MemoryStore()
    const server = new FakeServer()
    const queue = new DraftQueue(store, server)
    await queue.add(inspection('a', '2026-12-07T10:00:00+08:00', 0))
    await queue.add(inspection('b', '2026-12-07T10:01:00+08:00', 0))
    await queue.add(inspection('c', '2026-12-07T10:02:00+08:00', 0))
    server.failNext = [new ApiError(422, 'validation_failed', '店铺已停业，不能检查', { shop_id: ['店铺已停业'] }),
                       new ApiError(409, 'conflict', '请求正在处理'), 'network']
    expect(await queue.flush()).toEqual({ sent: 0, refused: 1, waiting: 2 })
    expect(server.calls).toEqual(['post a-r', 'post b-r', 'post c-r'])
    const [a, b, c] = await queue.pending()
    expect(a.state).toBe('refused')
    expect(a.error).toBe('店铺已停业，不能检查')
    expect(a.fields).toEqual({ shop_id: ['店铺已停业'] })
    expect(b.state).toBe('waiting')
    expect(b.attempts).toBe(0) // a 409 is not a failure
    expect(c.attempts).toBe(1)
    expect(await queue.flush(true)).toEqual({ sent: 2, refused: 1, waiting: 0 }) // a tap ignores the backoff
    await queue.discard('a')
    expect(await queue.pending()).toEqual([])
  })

  it('a corrected refused draft goes again', async () => {
    const store = new MemoryStore()
    const server = new FakeServer()
    const queue = new DraftQueue(store, server)
    await queue.add(inspection('a', '2026-12-07T10:00:00+08:00', 0))
    server.failNext = [new ApiError(422, 'validation_failed', '提交的数据有误')]
    await queue.flush()
    const [refused] = await queue.pending()
    await queue.retry({ ...refused, body: { ...refused.body, note: '补充说明' } })
    expect(await queue.flush()).toEqual({ sent: 1, refused: 0, waiting: 0 })
  })
})
