/**
 * The photo upload queue: each photo checked for size before it goes, uploaded one at a time with its
 * progress, retried with backoff when the network or the server fails, and never stored twice — each
 * photo keeps one Idempotency-Key across its retries, so a retry after a lost answer is replayed.
 */
import { ApiError, messageOf } from './errors'
import { backoff } from './api'
import { uuid4 } from './ids'

export const MAX_BYTES = 10 * 1024 * 1024

export interface LocalPhoto {
  path: string
  size: number
  source: 'camera' | 'album'
  lat?: number
  lng?: number
  capturedAt?: string
}

export interface Uploaded {
  id: number
  reused: boolean
  thumb_url: string
}

/** Uploads one photo under ``key`` (the Idempotency-Key), reporting progress 0..100. */
export type Uploader = (photo: LocalPhoto, key: string, progress: (percent: number) => void) => Promise<Uploaded>

export type State = 'waiting' | 'uploading' | 'done' | 'failed'

export interface Item {
  photo: LocalPhoto
  key: string
  state: State
  progress: number
  result?: Uploaded
  error?: string
}

export interface QueueOptions {
  retries?: number
  maxBytes?: number
  sleep?: (ms: number) => Promise<void>
  newKey?: () => string
  onChange?: (items: Item[]) => void
}

/** A refusal the server will repeat however often it is asked (too big, not an image, a quota). */
function permanent(error: unknown): boolean {
  return error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429
}

export class UploadQueue {
  items: Item[] = []
  private readonly uploader: Uploader
  private readonly retries: number
  private readonly maxBytes: number
  private readonly sleep: (ms: number) => Promise<void>
  private readonly newKey: () => string
  private readonly onChange: (items: Item[]) => void
  private running: Promise<void> | null = null

  constructor(uploader: Uploader, options: QueueOptions = {}) {
    this.uploader = uploader
    this.retries = options.retries ?? 2
    this.maxBytes = options.maxBytes ?? MAX_BYTES
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)))
    this.newKey = options.newKey ?? (() => uuid4())
    this.onChange = options.onChange ?? (() => undefined)
  }

  /** Queue photos; those over the size limit are refused here with a message, not sent. */
  add(photos: LocalPhoto[]): string[] {
    const problems: string[] = []
    for (const photo of photos) {
      if (this.items.some((item) => item.photo.path === photo.path)) continue // the same picture twice
      if (photo.size > this.maxBytes) {
        problems.push(`照片超过 ${Math.round(this.maxBytes / 1024 / 1024)} MB，请重新拍摄或选择较小的照片`)
        continue
      }
      this.items.push({ photo, key: this.newKey(), state: 'waiting', progress: 0 })
    }
    this.changed()
    return problems
  }

  remove(path: string): void {
    this.items = this.items.filter((item) => item.photo.path !== path || item.state === 'uploading')
    this.changed()
  }

  /** Send what waits (one at a time); resolves when none is left waiting. */
  run(): Promise<void> {
    if (!this.running) {
      this.running = this.drain().finally(() => {
        this.running = null
      })
    }
    return this.running
  }

  /** A failed photo back in the queue (same key: the server replays what it may have stored). */
  retry(path: string): Promise<void> {
    for (const item of this.items) {
      if (item.photo.path === path && item.state === 'failed') {
        item.state = 'waiting'
        item.error = undefined
      }
    }
    this.changed()
    return this.run()
  }

  ids(): number[] {
    return this.items.filter((item) => item.state === 'done' && item.result).map((item) => item.result!.id)
  }

  get busy(): boolean {
    return this.items.some((item) => item.state === 'waiting' || item.state === 'uploading')
  }

  get failed(): Item[] {
    return this.items.filter((item) => item.state === 'failed')
  }

  private async drain(): Promise<void> {
    for (;;) {
      const item = this.items.find((candidate) => candidate.state === 'waiting')
      if (!item) return
      await this.send(item)
    }
  }

  private async send(item: Item): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      item.state = 'uploading'
      item.progress = 0
      this.changed()
      try {
        item.result = await this.uploader(item.photo, item.key, (percent) => {
          item.progress = Math.max(0, Math.min(100, Math.round(percent)))
          this.changed()
        })
        item.state = 'done'
        item.progress = 100
        this.changed()
        return
      } catch (error) {
        if (permanent(error) || attempt >= this.retries) {
          item.state = 'failed'
          item.error = messageOf(error)
          this.changed()
          return
        }
        await this.sleep(backoff(attempt))
      }
    }
  }

  private changed(): void {
    this.onChange(this.items.map((item) => ({ ...item })))
  }
}
