/** HTTP for src/core: Taro.request (wx.request in the weapp build, fetch in H5) and Taro.uploadFile. */
import Taro from '@tarojs/taro'
import type { HttpRequest, HttpResponse, Transport } from '../core/api'
import { ApiError, fromResponse, networkError } from '../core/errors'
import type { LocalPhoto, Uploaded } from '../core/uploads'

export const transport: Transport = (request: HttpRequest) =>
  new Promise<HttpResponse>((resolve, reject) => {
    settled(Taro.request({
      url: request.url,
      method: request.method as 'GET' | 'POST' | 'PUT' | 'DELETE',
      header: request.headers,
      data: request.data as Record<string, unknown> | undefined,
      dataType: 'json',
      timeout: 20000,
      success: (answer) => resolve({ status: answer.statusCode, data: answer.data, headers: (answer.header || {}) as Record<string, string> }),
      fail: (error) => reject(error)
    }))
  })

/** Taro's APIs also return a promise that rejects beside the fail callback: handled there, not left
 * unhandled (an "Uncaught (in promise)" in the browser for every offline request). */
function settled<T>(task: T): T {
  const thenable = task as unknown as { catch?: (f: () => void) => void }
  if (thenable && typeof thenable.catch === 'function') thenable.catch(() => undefined)
  return task
}

/** POST /photos (multipart) with its Idempotency-Key, reporting progress. */
export function uploadPhoto(url: string, token: string | null, photo: LocalPhoto, key: string,
                            progress: (percent: number) => void): Promise<Uploaded> {
  return new Promise<Uploaded>((resolve, reject) => {
    const formData: Record<string, string> = { source: photo.source }
    if (photo.lat !== undefined && photo.lng !== undefined) {
      formData.lat = String(photo.lat)
      formData.lng = String(photo.lng)
    }
    if (photo.capturedAt) formData.captured_at = photo.capturedAt
    const task = settled(Taro.uploadFile({
      url,
      filePath: photo.path,
      name: 'file',
      header: { 'Idempotency-Key': key, ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      formData,
      success: (answer) => {
        let body: unknown = answer.data
        try {
          body = typeof answer.data === 'string' ? JSON.parse(answer.data) : answer.data
        } catch {
          // not JSON: the status alone decides
        }
        if (answer.statusCode >= 200 && answer.statusCode < 300) resolve(body as Uploaded)
        else reject(fromResponse(answer.statusCode, body))
      },
      fail: () => reject(networkError())
    }))
    if (task && typeof task.onProgressUpdate === 'function') task.onProgressUpdate((p) => progress(p.progress))
  })
}

export { ApiError }
