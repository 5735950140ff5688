/**
 * Records made without a network (an inspection in a basement kitchen): each is a draft kept on the
 * device (the platform's store: storage + the user data folder in WeChat, IndexedDB in a browser) and
 * sent when the network returns — its photos first, then the record, every request with an
 * Idempotency-Key derived from the draft, so a retry after a lost answer is replayed by the server
 * instead of making a second record.  The time of the check is the draft's, not the time it is sent.
 *
 * What each answer does: 2xx → done, the draft and its files deleted; 409 (the same key still
 * running on the server) → tried again later; another 4xx → the draft kept, refused, with the server's
 * message, to fix or discard; 5xx, 429 or no answer → backoff, and nothing more is tried until then.
 */
import { backoff } from './api'
import { ApiError, messageOf } from './errors'

export interface DraftPhoto {
  /** Where the photo is kept on the device (copied out of the temporary files). */
  path: string
  size: number
  /** Which part of the record it belongs to (a checklist item's code). */
  field: string
  lat?: number
  lng?: number
  capturedAt?: string
  /** Set once uploaded: a later attempt does not upload it again. */
  uploadedId?: number
}

export type DraftState = 'waiting' | 'refused'

export interface Draft {
  id: string
  /** POST path of the record, e.g. /shops/12/inspections. */
  path: string
  /** The record's body; ``attach`` puts the photo ids in before it is sent. */
  body: Record<string, unknown>
  photos: DraftPhoto[]
  createdAt: string
  state: DraftState
  attempts: number
  nextTryAt: number
  error?: string
  /** The field the server named, when it refused. */
  fields?: Record<string, string[]>
}

export interface DraftStore {
  list(): Promise<Draft[]>
  save(draft: Draft): Promise<void>
  /** The draft and its photo files. */
  remove(draft: Draft): Promise<void>
}

export interface Sender {
  uploadPhoto(photo: DraftPhoto, key: string): Promise<{ id: number }>
  post(path: string, body: unknown, key: string): Promise<unknown>
}

/** Puts the uploaded photos' ids into the body (for an inspection: each item's photo_ids). */
export type Attach = (body: Record<string, unknown>, photos: DraftPhoto[]) => Record<string, unknown>

export interface FlushResult {
  sent: number
  refused: number
  waiting: number
}

export function photoKey(draft: Draft, index: number): string {
  return `${draft.id}-p${index}`
}

export function recordKey(draft: Draft): string {
  return `${draft.id}-r`
}

/** An inspection's photos go to the items they were taken for. */
export const attachToItems: Attach = (body, photos) => {
  const items = (body.items as Array<Record<string, unknown>>) || []
  return {
    ...body,
    items: items.map((item) => {
      const ids = photos.filter((p) => p.field === item.code && p.uploadedId !== undefined).map((p) => p.uploadedId as number)
      return ids.length ? { ...item, photo_ids: ids } : item
    })
  }
}

function transient(error: unknown): boolean {
  return !(error instanceof ApiError) || error.status === 0 || error.status === 429 || error.status >= 500
}

export class DraftQueue {
  private readonly store: DraftStore
  private readonly sender: Sender
  private readonly attach: Attach
  private readonly now: () => number
  private flushing: Promise<FlushResult> | null = null

  constructor(store: DraftStore, sender: Sender, options: { attach?: Attach; now?: () => number } = {}) {
    this.store = store
    this.sender = sender
    this.attach = options.attach ?? attachToItems
    this.now = options.now ?? (() => Date.now())
  }

  async add(draft: Omit<Draft, 'state' | 'attempts' | 'nextTryAt'>): Promise<Draft> {
    const kept: Draft = { ...draft, state: 'waiting', attempts: 0, nextTryAt: 0 }
    await this.store.save(kept)
    return kept
  }

  async pending(): Promise<Draft[]> {
    return (await this.store.list()).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
  }

  async discard(id: string): Promise<void> {
    const draft = (await this.store.list()).find((d) => d.id === id)
    if (draft) await this.store.remove(draft)
  }

  /** A refused draft, corrected: sent again with the same keys (the server kept nothing of it). */
  async retry(draft: Draft): Promise<void> {
    await this.store.save({ ...draft, state: 'waiting', attempts: 0, nextTryAt: 0, error: undefined, fields: undefined })
  }

  /** Send what waits, oldest first; one flush at a time.  ``force``: ignore the backoff (a tap). */
  flush(force = false): Promise<FlushResult> {
    if (!this.flushing) {
      this.flushing = this.run(force).finally(() => {
        this.flushing = null
      })
    }
    return this.flushing
  }

  private async run(force: boolean): Promise<FlushResult> {
    let sent = 0
    for (const draft of await this.pending()) {
      if (draft.state !== 'waiting' || (!force && draft.nextTryAt > this.now())) continue
      const outcome = await this.send(draft)
      if (outcome === 'sent') sent++
      if (outcome === 'stop') break // the network or the server is down: the rest waits too
    }
    const left = await this.store.list()
    return { sent, refused: left.filter((d) => d.state === 'refused').length, waiting: left.filter((d) => d.state === 'waiting').length }
  }

  private async send(draft: Draft): Promise<'sent' | 'later' | 'refused' | 'stop'> {
    try {
      for (const [index, photo] of draft.photos.entries()) {
        if (photo.uploadedId !== undefined) continue
        photo.uploadedId = (await this.sender.uploadPhoto(photo, photoKey(draft, index))).id
        await this.store.save(draft) // a kill now does not upload it again
      }
      await this.sender.post(draft.path, this.attach(draft.body, draft.photos), recordKey(draft))
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) return 'later' // the same key still running
      if (transient(error)) {
        draft.attempts += 1
        draft.nextTryAt = this.now() + backoff(draft.attempts - 1)
        await this.store.save(draft)
        return 'stop'
      }
      draft.state = 'refused'
      draft.error = messageOf(error)
      draft.fields = error instanceof ApiError ? error.fields : undefined
      await this.store.save(draft)
      return 'refused'
    }
    await this.store.remove(draft)
    return 'sent'
  }
}
