/** 我的投诉: each with its status and the staff's public reply. */
import { Text, View } from '@tarojs/components'
import { useCallback } from 'react'
import Screen from '../../components/Screen'
import { useLoad } from '../../components/useLoad'
import { Labels } from '../../core/labels'
import { Complaint, Page, when } from '../../core/models'
import { api, words } from '../../session'

export default function MyComplaints() {
  const load = useCallback(async (): Promise<{ items: Complaint[]; labels: Labels }> => {
    const [page, labels] = await Promise.all([api.get<Page<Complaint>>('/me/complaints', { per_page: 50 }), words()])
    return { items: page.items, labels }
  }, [])
  const { data, loading, error, reload } = useLoad(load)
  if (!data) return <Screen loading={loading || !error} error={error} onRetry={reload} />
  return (
    <Screen empty={data.items.length === 0 && '还没有投诉'}>
      {data.items.map((c) => (
        <View key={c.id} className='card complaint'>
          <View className='spread'>
            <Text className='card-title'>{data.labels.of('complaint_category', c.category)}</Text>
            <Text className={`tag ${c.status === 'open' ? 'warn' : 'good'}`}>{data.labels.of('complaint_status', c.status)}</Text>
          </View>
          <Text>{c.description}</Text>
          <Text className='muted small'>{when(c.created_at)} · {data.labels.of('district', c.district_code)}</Text>
          {c.reply && <Text className='notice ok'>答复：{c.reply}</Text>}
        </View>
      ))}
    </Screen>
  )
}
