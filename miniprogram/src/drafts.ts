/** This device's queue of records made offline (an inspection), sent when the network returns, when
 * the app shows, on a tap — and again when a backoff ends, until none waits. */
import { Draft, DraftQueue } from './core/drafts'
import { readable, store } from './platform/drafts'
import { onOnline } from './platform/network'
import { uploadPhoto } from './platform/transport'
import { api, session } from './session'

export const drafts = new DraftQueue(store, {
  uploadPhoto: async (photo, key) => uploadPhoto(`${API_BASE}/photos`, session.token(), {
    path: await readable(photo), size: photo.size, source: 'camera', lat: photo.lat, lng: photo.lng, capturedAt: photo.capturedAt
  }, key, () => undefined),
  post: (path, body, key) => api.post(path, body, { key })
})

type Listener = (pending: Draft[]) => void
const listeners = new Set<Listener>()
let listening = false
let timer: ReturnType<typeof setTimeout> | null = null

/** Send now (``force``: ignore backoffs), tell the screens what is left, and come back when the
 * earliest backoff ends while anything waits. */
export async function send(force = false): Promise<Draft[]> {
  if (timer) clearTimeout(timer)
  timer = null
  await drafts.flush(force).catch(() => undefined)
  const pending = await drafts.pending()
  listeners.forEach((listener) => listener(pending))
  const due = pending.filter((d) => d.state === 'waiting').map((d) => d.nextTryAt)
  if (due.length) timer = setTimeout(() => { send() }, Math.min(Math.max(Math.min(...due) - Date.now(), 500), 60_000))
  return pending
}

/** A screen following the queue; returns the way to stop.  The first call also sends whenever the
 * network comes back. */
export function follow(listener: Listener): () => void {
  listeners.add(listener)
  if (!listening) {
    listening = true
    onOnline(() => { send() })
  }
  return () => { listeners.delete(listener) }
}
