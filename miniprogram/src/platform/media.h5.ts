/** Photos in the browser: the file chooser (H5 has no compressImage: the server makes the thumbnail
 * and keeps at most 10 MB, checked here before upload). */
import Taro from '@tarojs/taro'
import type { LocalPhoto } from '../core/uploads'
import { here } from './location'

export async function choosePhotos(count: number, source: 'camera' | 'album'): Promise<LocalPhoto[]> {
  let answer: Taro.chooseImage.SuccessCallbackResult
  try {
    answer = await Taro.chooseImage({ count, sourceType: [source], sizeType: ['compressed'] })
  } catch {
    return []
  }
  const place = source === 'camera' ? await here().catch(() => null) : null
  const capturedAt = source === 'camera' ? new Date().toISOString() : undefined
  return answer.tempFiles.map((file) => ({ path: file.path, size: file.size, source, capturedAt,
                                           ...(place ? { lat: place.lat, lng: place.lng } : {}) }))
}
