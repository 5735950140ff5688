/** The entry: logs in (wx.login, or the login page in a browser), asks for privacy consent first,
 * follows a claim QR the app was opened with, then shows what this user can do. */
import { Button, Text, View } from '@tarojs/components'
import { useRouter } from '@tarojs/taro'
import { useCallback } from 'react'
import Screen from '../../components/Screen'
import { useLoad } from '../../components/useLoad'
import { claimCodeOfQuery } from '../../core/claim'
import { ApiError } from '../../core/errors'
import { Labels } from '../../core/labels'
import { Me, Page, Shop, gradeView } from '../../core/models'
import { needsPrivacyAuthorization } from '../../platform/privacy'
import { go, replace } from '../../platform/ui'
import { api, whoAmI, words } from '../../session'

const COLLECTORS = ['collector', 'collector_manager']
const INSPECTORS = ['inspector', 'regulator', 'admin']

interface Home {
  me: Me
  shops: Shop[]
  labels: Labels
}

export default function Index() {
  const router = useRouter()
  const load = useCallback(async (): Promise<Home | null> => {
    let me: Me
    try {
      me = await whoAmI()
    } catch (error) {
      if (error instanceof ApiError && error.status !== 401) throw error
      replace('/pages/login/index')
      return null
    }
    if (me.privacy_accepted_version !== PRIVACY_VERSION || (await needsPrivacyAuthorization())) {
      replace('/pages/privacy/index')
      return null
    }
    const code = claimCodeOfQuery(router.params as Record<string, string>)
    if (code) {
      replace(`/owner/claim/index?code=${code}`)
      return null
    }
    const [labels, shops] = await Promise.all([
      words(),
      me.shop_ids.length ? api.get<Page<Shop>>('/shops', { per_page: 50 }) : Promise.resolve({ items: [] } as unknown as Page<Shop>)
    ])
    return { me, shops: shops.items, labels }
  }, [router.params])
  const { data, loading, error, reload } = useLoad(load)
  if (!data) return <Screen loading={loading || !error} error={error} onRetry={reload} />
  const { me, shops, labels } = data
  return (
    <Screen>
      <View className='card'>
        <View className='spread'>
          <Text className='card-title'>{me.display_name || '您好'}</Text>
          <Text className='tag'>{labels.of('role', me.role)}</Text>
        </View>
        <Text className='muted'>济宁市城市管理局“一店三查”：油烟净化设施、餐厨废弃物、店外经营</Text>
      </View>
      {shops.length > 0 && (
        <View className='card' id='my-shops'>
          <Text className='card-title'>我的店铺</Text>
          {shops.map((shop) => {
            const grade = gradeView(shop.compliance, labels)
            return (
              <View key={shop.id} className='entry' onClick={() => go(`/owner/shop/index?id=${shop.id}`)}>
                <Text>{shop.name}</Text>
                <Text className={`tag ${grade.tone}`}>{grade.text}</Text>
              </View>
            )
          })}
        </View>
      )}
      {INSPECTORS.includes(me.role) && (
        <View className='card' id='inspector'>
          <Text className='card-title'>执法巡查</Text>
          <View className='entry' onClick={() => go('/inspector/patrol/index')}><Text>巡查（附近店铺，风险高的在前）</Text><Text className='muted'>›</Text></View>
        </View>
      )}
      {COLLECTORS.includes(me.role) && (
        <View className='card' id='collector'>
          <Text className='card-title'>收运</Text>
          <View className='entry' onClick={() => go('/collector/slips/index')}><Text>待确认联单</Text><Text className='muted'>›</Text></View>
          <View className='entry' onClick={() => go('/collector/start/index')}><Text>为店铺开具联单</Text><Text className='muted'>›</Text></View>
        </View>
      )}
      <View className='card' id='shop-entry'>
        <Text className='card-title'>店铺</Text>
        <View className='entry' onClick={() => go('/owner/claim/index')}><Text>认领店铺（扫描认领码）</Text><Text className='muted'>›</Text></View>
        <View className='entry' onClick={() => go('/owner/register/index')}><Text>登记新店铺</Text><Text className='muted'>›</Text></View>
        <View className='entry' onClick={() => go('/owner/join/index')}><Text>加入店铺（店员）</Text><Text className='muted'>›</Text></View>
      </View>
      <View className='card' id='citizen'>
        <Text className='card-title'>市民投诉</Text>
        <View className='entry' onClick={() => go('/citizen/complaint/index')}><Text>我要投诉（油烟、露天烧烤、出店经营、乱倒餐厨垃圾）</Text><Text className='muted'>›</Text></View>
        <View className='entry' onClick={() => go('/citizen/complaints/index')}><Text>我的投诉</Text><Text className='muted'>›</Text></View>
      </View>
      <Button className='btn ghost' onClick={() => go('/pages/mine/index')}>我的（提醒与订阅）</Button>
    </Screen>
  )
}
