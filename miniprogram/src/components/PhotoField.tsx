/** Photos for a record: 拍照 / 相册, each thumbnail with its upload progress; a failed one says why and
 * is sent again with a tap (the queue keeps its Idempotency-Key: never stored twice). */
import { Button, Image, Text, View } from '@tarojs/components'
import { useEffect, useMemo, useState } from 'react'
import { Item } from '../core/uploads'
import { choosePhotos } from '../platform/media'
import { toast } from '../platform/ui'
import { photoQueue } from '../session'

export interface PhotoFieldHandle {
  ids: () => number[]
  busy: () => boolean
  failed: () => number
}

interface Props {
  label: string
  max?: number
  name: string
  onReady?: (handle: PhotoFieldHandle) => void
}

export default function PhotoField({ label, max = 6, name, onReady }: Props) {
  const [items, setItems] = useState<Item[]>([])
  const queue = useMemo(() => photoQueue(setItems), [])
  useEffect(() => { onReady?.({ ids: () => queue.ids(), busy: () => queue.busy, failed: () => queue.failed.length }) }, [queue, onReady])

  async function add(source: 'camera' | 'album') {
    const photos = await choosePhotos(Math.max(1, max - queue.items.length), source)
    const problems = queue.add(photos)
    if (problems.length) toast(problems[0])
    await queue.run()
  }

  return (
    <View className='field photos' data-name={name}>
      <Text className='label'>{label}</Text>
      <View className='thumbs'>
        {items.map((item) => (
          <View key={item.photo.path} className={`thumb ${item.state}`}>
            <Image src={item.photo.path} mode='aspectFill' className='thumb-img' />
            {item.state === 'uploading' && <Text className='progress'>{item.progress}%</Text>}
            {item.state === 'done' && <Text className='progress ok'>已上传{item.result?.reused ? '（重复照片）' : ''}</Text>}
            {item.state === 'failed' && (
              <View className='progress bad' onClick={() => queue.retry(item.photo.path)}>
                <Text>{item.error}</Text><Text className='retry'>点此重试</Text>
              </View>
            )}
            {item.state !== 'uploading' && <Text className='remove' onClick={() => queue.remove(item.photo.path)}>×</Text>}
          </View>
        ))}
      </View>
      {items.length < max && (
        <View className='row'>
          <Button className='btn ghost small' onClick={() => add('camera')}>拍照</Button>
          <Button className='btn ghost small' onClick={() => add('album')}>从相册选</Button>
        </View>
      )}
    </View>
  )
}
