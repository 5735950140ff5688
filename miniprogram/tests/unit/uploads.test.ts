import { describe, expect, it } from 'vitest'
import { ApiError } from '../../src/core/errors'
import { LocalPhoto, UploadQueue, Uploaded } from '../../src/core/uploads'

const photo = (path: string, size = 1000): LocalPhoto => ({ path, size, source: 'camera' })
const sleep = async () => undefined

describe('the upload queue', () => {
  it('refuses a photo over 10 MB before sending it, and a picture added twice goes once', async () => {
    const sent: string[] = []
    const queue = new UploadQueue(async (p) => { sent.push(p.path); return { id: sent.length, reused: false, thumb_url: '' } }, { sleep })
    const problems = queue.add([photo('a'), photo('big', 11 * 1024 * 1024), photo('a')])
    expect(problems).toEqual(['照片超过 10 MB，请重新拍摄或选择较小的照片'])
    await queue.run()
    expect(sent).toEqual(['a'])
    expect(queue.ids()).toEqual([1])
  })

  it('retries a failed upload with the same key and reports progress', async () => {
    const keys: string[] = []
    const progress: number[] = []
    let calls = 0
    let n = 0
    const queue = new UploadQueue(async (_p, key, report): Promise<Uploaded> => {
      keys.push(key)
      calls++
      report(50)
      if (calls < 3) throw new ApiError(0, 'network', '网络连接失败，请检查网络后重试')
      report(100)
      return { id: 9, reused: false, thumb_url: '' }
    }, { sleep, newKey: () => `k${++n}`, onChange: (items) => progress.push(items[0]?.progress ?? -1) })
    queue.add([photo('a')])
    await queue.run()
    expect(keys).toEqual(['k1', 'k1', 'k1'])
    expect(queue.items[0].state).toBe('done')
    expect(progress).toContain(50)
    expect(progress[progress.length - 1]).toBe(100)
  })

  it('leaves a photo failed after its retries, with the message, and a tap sends it again', async () => {
    let fail = true
    const queue = new UploadQueue(async () => {
      if (fail) throw new ApiError(503, 'service_unavailable', '服务暂时不可用，请稍后再试')
      return { id: 3, reused: true, thumb_url: '' }
    }, { sleep, retries: 1 })
    queue.add([photo('a')])
    await queue.run()
    expect(queue.failed.map((i) => i.error)).toEqual(['服务暂时不可用，请稍后再试'])
    expect(queue.ids()).toEqual([])
    fail = false
    await queue.retry('a')
    expect(queue.ids()).toEqual([3])
  })

  it('does not retry what the server refuses for good (not an image)', async () => {
    let calls = 0
    const queue = new UploadQueue(async () => { calls++; throw new ApiError(415, 'unsupported_media_type', '不支持的文件类型') }, { sleep })
    queue.add([photo('a')])
    await queue.run()
    expect(calls).toBe(1)
    expect(queue.failed[0].error).toBe('不支持的文件类型')
  })
})
