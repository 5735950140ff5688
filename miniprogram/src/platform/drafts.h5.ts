/** Drafts in a browser: IndexedDB, the record and its photos' bytes (the picker's blob: URLs die with
 * the page), so a reload or a closed tab loses nothing. */
import type { Draft, DraftPhoto, DraftStore } from '../core/drafts'

const DB = 'canchu-drafts'

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1)
    request.onupgradeneeded = () => {
      request.result.createObjectStore('drafts', { keyPath: 'id' })
      request.result.createObjectStore('files')
    }
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error)
  })
}

function run<T>(store: string, mode: IDBTransactionMode, work: (s: IDBObjectStore) => IDBRequest<T> | void): Promise<T | undefined> {
  return open().then((db) => new Promise<T | undefined>((resolve, reject) => {
    const transaction = db.transaction(store, mode)
    const request = work(transaction.objectStore(store))
    transaction.oncomplete = () => { db.close(); resolve(request ? request.result : undefined) }
    transaction.onerror = () => { db.close(); reject(transaction.error) }
  }))
}

export const store: DraftStore = {
  async list() {
    return ((await run<Draft[]>('drafts', 'readonly', (s) => s.getAll() as IDBRequest<Draft[]>)) || [])
  },
  async save(draft) {
    await run('drafts', 'readwrite', (s) => { s.put(draft) })
  },
  async remove(draft) {
    await run('drafts', 'readwrite', (s) => { s.delete(draft.id) })
    await run('files', 'readwrite', (s) => { for (const photo of draft.photos) s.delete(photo.path) })
  }
}

/** The picked photo kept: its bytes copied into IndexedDB under a name of the draft's. */
export async function keep(tempPath: string, name: string): Promise<string> {
  const blob = await (await fetch(tempPath)).blob()
  await run('files', 'readwrite', (s) => { s.put(blob, name) })
  return name
}

/** A path the uploader can send (a fresh blob: URL of the kept bytes). */
export async function readable(photo: DraftPhoto): Promise<string> {
  const blob = await run<Blob>('files', 'readonly', (s) => s.get(photo.path) as IDBRequest<Blob>)
  if (!blob) throw new Error('draft photo missing')
  return URL.createObjectURL(blob)
}
