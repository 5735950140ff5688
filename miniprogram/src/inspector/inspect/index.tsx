/** 一店三查: the checklist grouped by 净化设施 / 餐厨废弃物 / 店外经营, each item 合格 / 不合格 / 不适用 /
 * 未检查 with a note and photos (a failed item needs one), one GPS fix when the inspection starts and
 * the distance to the shop before filing.  Filed as a draft on the phone first: with no network it
 * waits and goes later (the time of the check stays the time it was made). */
import { Button, Image, Text, Textarea, View } from '@tarojs/components'
import { useRouter } from '@tarojs/taro'
import { useCallback, useState } from 'react'
import Screen from '../../components/Screen'
import { useLoad } from '../../components/useLoad'
import { DraftPhoto } from '../../core/drafts'
import { uuid4 } from '../../core/ids'
import { Labels } from '../../core/labels'
import { Page, Rectification, Shop, nowInJining } from '../../core/models'
import { keep } from '../../platform/drafts'
import { here } from '../../platform/location'
import { choosePhotos } from '../../platform/media'
import { toast } from '../../platform/ui'
import { drafts, send } from '../../drafts'
import { api, words } from '../../session'

interface Item {
  code: string
  check: string
  text: string
}

const RESULTS = ['pass', 'fail', 'na', 'not_checked']
const GROUPS = ['purifier', 'waste', 'outside']

function distanceM(a: { lat: number; lng: number }, b: { lat: number; lng: number }): number {
  const rad = Math.PI / 180
  const dLat = (b.lat - a.lat) * rad
  const dLng = (b.lng - a.lng) * rad
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2
  return 2 * 6_371_008.8 * Math.asin(Math.sqrt(h))
}

interface Loaded {
  shop: Shop
  items: Item[]
  labels: Labels
  fix: { lat: number; lng: number } | null
  startedAt: string
}

export default function Inspect() {
  const shopId = Number(useRouter().params.shop)
  const load = useCallback(async (): Promise<Loaded> => {
    const startedAt = nowInJining()
    const [shop, checklist, labels, fix] = await Promise.all([
      api.get<Shop>(`/shops/${shopId}`), api.get<{ items: Item[] }>('/checklist'), words(), here().catch(() => null)])
    return { shop, items: checklist.items, labels, fix, startedAt }
  }, [shopId])
  const { data, loading, error, reload } = useLoad(load)
  if (!data) return <Screen loading={loading || !error} error={error} onRetry={reload} />
  return <Checklist {...data} />
}

function Checklist({ shop, items, labels, fix, startedAt }: Loaded) {
  const [results, setResults] = useState<Record<string, string>>(Object.fromEntries(items.map((i) => [i.code, 'pass'])))
  const [notes, setNotes] = useState<Record<string, string>>({})
  const [photos, setPhotos] = useState<DraftPhoto[]>([])
  const [previews, setPreviews] = useState<Record<string, string>>({})  // kept path → the picker's temporary one
  const [problem, setProblem] = useState<string | null>(null)
  const [done, setDone] = useState<{ sent: boolean; order?: Rectification } | null>(null)
  const [busy, setBusy] = useState(false)
  const draftId = useState(() => uuid4())[0]

  async function addPhotos(code: string) {
    const picked = await choosePhotos(3, 'camera')
    const kept: DraftPhoto[] = []
    const shown: Record<string, string> = {}
    for (const [n, photo] of picked.entries()) {
      const path = await keep(photo.path, `${draftId}-${code}-${photos.length + n}`)
      shown[path] = photo.path
      kept.push({ path, size: photo.size, field: code, lat: photo.lat ?? fix?.lat, lng: photo.lng ?? fix?.lng,
                  capturedAt: photo.capturedAt ?? nowInJining() })
    }
    setPreviews({ ...previews, ...shown })
    setPhotos([...photos, ...kept])
  }

  async function file() {
    if (!fix) return setProblem('未获得定位，请在设置中允许定位后重新进入')
    const failedWithout = items.filter((i) => results[i.code] === 'fail' && !photos.some((p) => p.field === i.code))
    if (failedWithout.length) return setProblem(`不合格项须附照片：${failedWithout.map((i) => i.text).join('；')}`)
    const unexplained = items.filter((i) => results[i.code] === 'fail' && !(notes[i.code] || '').trim())
    if (unexplained.length) return setProblem(`不合格项须填写说明：${unexplained.map((i) => i.text).join('；')}`)
    setBusy(true)
    setProblem(null)
    try {
      await drafts.add({
        id: draftId, path: `/shops/${shop.id}/inspections`, createdAt: startedAt, photos,
        body: { inspected_at: startedAt, lat: fix.lat, lng: fix.lng,
                items: items.map((i) => ({ code: i.code, result: results[i.code], ...(notes[i.code] ? { note: notes[i.code] } : {}) })) }
      })
      const waiting = (await send(true)).find((d) => d.id === draftId)
      if (waiting?.state === 'refused') return setProblem(`未被接受：${waiting.error}`)
      if (waiting) return setDone({ sent: false })
      const orders = await api.get<Page<Rectification>>('/rectifications', { shop_id: shop.id, status: 'open' }).catch(() => null)
      setDone({ sent: true, order: orders?.items[0] })
      toast('已提交', 'success')
    } finally {
      setBusy(false)
    }
  }

  if (done) {
    return (
      <Screen>
        <View className='card' id='filed'>
          <Text className='card-title'>{done.sent ? '检查记录已提交' : '已保存在手机上'}</Text>
          {!done.sent && <Text className='line'>当前无网络，联网后自动上传；检查时间按 {startedAt.slice(0, 16).replace('T', ' ')} 记录。</Text>}
          {done.order && <Text className='notice'>已下达整改通知，期限 {done.order.deadline}（店主签收即送达）</Text>}
        </View>
      </Screen>
    )
  }

  const distance = fix ? distanceM(fix, shop) : null
  return (
    <Screen>
      <View className='card'>
        <Text className='card-title'>{shop.name}</Text>
        <Text className='muted'>{shop.address}</Text>
        <Text className={distance !== null && distance > 200 ? 'error-text' : 'muted'} id='distance'>
          {distance === null ? '未获得定位' : `距店铺约 ${Math.round(distance)} 米${distance > 200 ? '（超过 200 米将标记为偏远检查，请到店检查）' : ''}`}
        </Text>
      </View>
      {GROUPS.map((group) => (
        <View key={group} className='card' id={`group-${group}`}>
          <Text className='card-title'>{labels.of('check', group)}</Text>
          {items.filter((i) => i.check === group).map((item) => (
            <View key={item.code} className='item' data-code={item.code}>
              <Text className='line'>{item.text}</Text>
              <View className='row'>
                {RESULTS.map((r) => (
                  <Text key={r} className={`tag choice ${results[item.code] === r ? (r === 'fail' ? 'bad' : 'good') : ''}`} data-result={r}
                        onClick={() => setResults({ ...results, [item.code]: r })}>{labels.of('inspection_result', r)}</Text>
                ))}
              </View>
              {results[item.code] === 'fail' && (
                <View>
                  <Textarea className='textarea' placeholder='问题说明' value={notes[item.code] || ''} maxlength={500}
                            onInput={(e) => setNotes({ ...notes, [item.code]: e.detail.value })} />
                  <View className='thumbs'>
                    {photos.filter((p) => p.field === item.code).map((p) => <Image key={p.path} className='thumb-img' src={previews[p.path]} mode='aspectFill' />)}
                  </View>
                  <Text className='line muted'>{photos.filter((p) => p.field === item.code).length} 张照片</Text>
                  <Button className='btn ghost small' onClick={() => addPhotos(item.code)}>拍照</Button>
                </View>
              )}
            </View>
          ))}
        </View>
      ))}
      {problem && <Text className='error-text'>{problem}</Text>}
      <Button className='btn' id='file' disabled={busy || undefined} onClick={file}>{busy ? '正在提交…' : '提交检查'}</Button>
    </Screen>
  )
}
