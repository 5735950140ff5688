/** A shop's home for its owner: the grade and why, what to do next (first), the purifier's due date,
 * the last slip, open orders; and the actions — log a cleaning, start a slip, answer an order. */
import { Button, Text, View } from '@tarojs/components'
import { useRouter } from '@tarojs/taro'
import { useCallback } from 'react'
import Screen from '../../components/Screen'
import { useLoad } from '../../components/useLoad'
import { Labels } from '../../core/labels'
import { Handover, Page, Rectification, Shop, gradeView, nextSteps, slipView } from '../../core/models'
import { go } from '../../platform/ui'
import { api, today, words } from '../../session'

interface Home {
  shop: Shop
  orders: Rectification[]
  slips: Handover[]
  labels: Labels
}

export default function ShopHome() {
  const id = Number(useRouter().params.id)
  const load = useCallback(async (): Promise<Home> => {
    const [shop, orders, slips, labels] = await Promise.all([
      api.get<Shop>(`/shops/${id}`),
      api.get<Page<Rectification>>('/rectifications', { shop_id: id, status: 'open', per_page: 20 }),
      api.get<Page<Handover>>(`/shops/${id}/handovers`, { per_page: 3 }),
      words()])
    return { shop, orders: orders.items, slips: slips.items, labels }
  }, [id])
  const { data, loading, error, reload } = useLoad(load)
  if (!data) return <Screen loading={loading || !error} error={error} onRetry={reload} />
  const { shop, orders, slips, labels } = data
  const grade = gradeView(shop.compliance, labels)
  const steps = nextSteps(shop, orders, today())
  const purifier = shop.compliance.purifier
  return (
    <Screen>
      <View className='card' id='grade'>
        <View className='spread'>
          <View>
            <Text className='card-title'>{shop.name}</Text>
            <Text className='muted'>{shop.address}</Text>
          </View>
          <Text className={`grade ${grade.tone}`}>{grade.letter}</Text>
        </View>
        {grade.reasons.map((reason) => <Text key={reason} className='step'>· {reason}</Text>)}
        {grade.reasons.length === 0 && <Text className='muted'>各项均符合要求。</Text>}
        {(shop.warnings || []).map((w) => <Text key={w.code} className='notice'>{w.message}</Text>)}
      </View>
      <View className='card' id='next'>
        <Text className='card-title'>接下来要做</Text>
        {steps.length === 0 && <Text className='muted'>暂无待办，请按期清洗净化设施、按时交收餐厨垃圾。</Text>}
        {steps.map((step) => (
          <View key={step.text} className={`step ${step.urgent ? 'urgent' : ''}`}
                onClick={() => step.kind === 'order' ? go(`/owner/order/index?id=${step.target}&shop=${id}`)
                  : step.kind === 'cleaning' ? go(`/owner/cleaning/index?shop=${id}`)
                    : step.kind === 'handover' ? go(`/owner/handover/index?shop=${id}`) : undefined}>
            <Text>{step.text}</Text>
          </View>
        ))}
      </View>
      <View className='card'>
        <Text className='card-title'>油烟净化设施</Text>
        <Text>{labels.of('purifier_status', purifier.status)}</Text>
        <Text className='muted'>上次清洗：{purifier.last_cleaned_on || '—'} · 下次应在 {purifier.due_on || '—'} 前</Text>
        <Button className='btn' onClick={() => go(`/owner/cleaning/index?shop=${id}`)}>登记清洗</Button>
      </View>
      <View className='card' id='slips'>
        <Text className='card-title'>餐厨垃圾收运联单</Text>
        {slips.length === 0 && <Text className='muted'>还没有联单</Text>}
        {slips.map((slip) => {
          const view = slipView(slip, labels)
          return (
            <View key={slip.id} className='item'>
              <View className='spread'><Text>{view.title}</Text><Text className={`tag ${view.tone}`}>{view.status}</Text></View>
              <Text className='muted'>{view.time} · {view.amount}</Text>
            </View>
          )
        })}
        <Button className='btn ghost' onClick={() => go(`/owner/handover/index?shop=${id}`)}>开具联单</Button>
      </View>
      <View className='card' id='manage'>
        <View className='entry' onClick={() => go(`/owner/change/index?shop=${id}`)}><Text>修改店铺信息</Text><Text className='muted'>›</Text></View>
        <View className='entry' onClick={() => go(`/owner/members/index?shop=${id}`)}><Text>店员</Text><Text className='muted'>›</Text></View>
      </View>
      {orders.length > 0 && (
        <View className='card' id='orders'>
          <Text className='card-title'>整改通知</Text>
          {orders.map((order) => (
            <View key={order.id} className='item' onClick={() => go(`/owner/order/index?id=${order.id}&shop=${id}`)}>
              <View className='spread'><Text>期限 {order.deadline}</Text>
                <Text className={`tag ${order.overdue ? 'bad' : 'warn'}`}>{order.overdue ? '已逾期' : '待整改'}</Text></View>
              <Text className='muted'>{order.items.map((code) => labels.of('checklist_item', code)).join('；')}</Text>
            </View>
          ))}
        </View>
      )}
    </Screen>
  )
}
