/** Photos from the camera or the album: compressed to at most 1600 px on the long side, with the
 * place and time of capture (WeChat's picker strips EXIF, so they are sent beside the photo). */
import Taro from '@tarojs/taro'
import type { LocalPhoto } from '../core/uploads'
import { here } from './location'

const LONG_SIDE = 1600

async function sizeOf(path: string, fallback: number): Promise<number> {
  try {
    const info = await Taro.getFileInfo({ filePath: path })
    return (info as unknown as { size: number }).size
  } catch {
    return fallback
  }
}

async function shrink(file: { tempFilePath: string; size: number; width?: number; height?: number }): Promise<{ path: string; size: number }> {
  const width = file.width || 0
  const height = file.height || 0
  if (Math.max(width, height) <= LONG_SIDE) return { path: file.tempFilePath, size: file.size }
  const option = width >= height ? { compressedWidth: LONG_SIDE } : { compressedHeight: LONG_SIDE }
  try {
    const answer = await Taro.compressImage({ src: file.tempFilePath, quality: 80, ...option } as Taro.compressImage.Option)
    return { path: answer.tempFilePath, size: await sizeOf(answer.tempFilePath, file.size) }
  } catch {
    return { path: file.tempFilePath, size: file.size }
  }
}

export async function choosePhotos(count: number, source: 'camera' | 'album'): Promise<LocalPhoto[]> {
  let answer: Taro.chooseMedia.SuccessCallbackResult
  try {
    answer = await Taro.chooseMedia({ count, mediaType: ['image'], sourceType: [source], sizeType: ['compressed'] })
  } catch {
    return [] // cancelled
  }
  const place = source === 'camera' ? await here().catch(() => null) : null
  const capturedAt = source === 'camera' ? new Date().toISOString() : undefined
  const photos: LocalPhoto[] = []
  for (const file of answer.tempFiles) {
    const { path, size } = await shrink(file as unknown as { tempFilePath: string; size: number; width?: number; height?: number })
    photos.push({ path, size, source, capturedAt, ...(place ? { lat: place.lat, lng: place.lng } : {}) })
  }
  return photos
}
