/** 巡查: the shops near me, risk first (GET /patrol), with distance, grade and reasons; the drafts made
 * offline waiting to go (sent when the network returns, or with a tap), and those the server refused. */
import { Button, Text, View } from '@tarojs/components'
import { useCallback, useEffect, useState } from 'react'
import Screen from '../../components/Screen'
import { useLoad } from '../../components/useLoad'
import { Draft } from '../../core/drafts'
import { messageOf } from '../../core/errors'
import { Labels } from '../../core/labels'
import { Page, Shop, gradeView } from '../../core/models'
import { here } from '../../platform/location'
import { go, toast } from '../../platform/ui'
import { drafts, follow, send } from '../../drafts'
import { api, words } from '../../session'

interface Near extends Shop {
  distance_m: number
}

export default function Patrol() {
  const [waiting, setWaiting] = useState<Draft[]>([])
  useEffect(() => {
    drafts.pending().then(setWaiting)  // what waits, shown at once; send() reports again when it has tried
    return follow(setWaiting)
  }, [])
  const load = useCallback(async (): Promise<{ shops: Near[]; labels: Labels }> => {
    send()  // what waits goes now that the screen shows (it reports back through follow)
    const [point, labels] = await Promise.all([here(), words()])
    const page = await api.get<Page<Near>>('/patrol', { lat: point.lat, lng: point.lng, per_page: 30 })
    return { shops: page.items, labels }
  }, [])
  const { data, loading, error, reload } = useLoad(load)

  async function sendNow() {
    try {
      const left = (await send(true)).filter((d) => d.state === 'waiting').length
      toast(left ? `还有 ${left} 条未上传` : '已全部上传')
    } catch (failure) {
      toast(messageOf(failure))
    }
  }

  async function discard(id: string) {
    await drafts.discard(id)
    setWaiting(await drafts.pending())
  }

  const queued = waiting.filter((d) => d.state === 'waiting')
  const refused = waiting.filter((d) => d.state === 'refused')
  const banner = (
    <>
      {queued.length > 0 && (
        <View className='notice' id='drafts'>
          <Text className='line'>{queued.length} 条检查记录未上传，联网后自动上传</Text>
          <Button className='btn small' onClick={sendNow}>立即上传</Button>
        </View>
      )}
      {refused.map((d) => (
        <View key={d.id} className='notice refused'>
          <Text className='line'>检查记录未被接受：{d.error}{d.fields ? `（${Object.values(d.fields).flat().join('；')}）` : ''}</Text>
          <Button className='btn danger small' onClick={() => discard(d.id)}>删除</Button>
        </View>
      ))}
    </>
  )
  if (!data) return <View className='page'>{banner}<Screen loading={loading} error={error} onRetry={reload} /></View>
  return (
    <Screen empty={data.shops.length === 0 && '附近 5 公里内没有需要巡查的店铺'}>
      {banner}
      {data.shops.map((shop) => {
        const grade = gradeView(shop.compliance, data.labels)
        return (
          <View key={shop.id} className='card patrol-shop' onClick={() => go(`/inspector/inspect/index?shop=${shop.id}`)}>
            <View className='spread'>
              <Text className='card-title'>{shop.name}</Text>
              <Text className={`tag ${grade.tone}`}>{shop.claimed ? grade.text : '待认领'}</Text>
            </View>
            <Text className='muted'>{shop.address} · 约 {Math.round(shop.distance_m)} 米</Text>
            {grade.reasons.slice(0, 3).map((r) => <Text key={r} className='step'>· {r}</Text>)}
          </View>
        )
      })}
    </Screen>
  )
}
