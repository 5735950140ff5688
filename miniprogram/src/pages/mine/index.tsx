/** 我的: who I am, my notifications (unread first counted, a tap marks one read) and the subscribe-message
 * switches (wx.requestSubscribeMessage from the tap itself, its answer reported to /me/subscriptions). */
import { Button, Text, View } from '@tarojs/components'
import { useCallback, useState } from 'react'
import Screen from '../../components/Screen'
import { useLoad } from '../../components/useLoad'
import { messageOf } from '../../core/errors'
import { Labels } from '../../core/labels'
import { Me, Notification, Page, Template, templatesFor, unreadCount, when } from '../../core/models'
import { CAN_SUBSCRIBE, requestSubscribe } from '../../platform/subscribe'
import { home, toast } from '../../platform/ui'
import { api, logout, whoAmI, words } from '../../session'

interface Mine {
  me: Me
  labels: Labels
  notifications: Notification[]
  templates: Template[]
  quota: Record<string, number | string>
}

export default function MinePage() {
  const load = useCallback(async (): Promise<Mine> => {
    const [me, labels, page, subs] = await Promise.all([
      whoAmI(true), words(), api.get<Page<Notification>>('/me/notifications', { per_page: 50 }),
      api.get<{ templates: Template[]; quota: Record<string, number | string> }>('/me/subscriptions')])
    return { me, labels, notifications: page.items, templates: templatesFor(me.role, subs.templates), quota: subs.quota }
  }, [])
  const { data, loading, error, reload, setData } = useLoad(load)
  const [busy, setBusy] = useState(false)
  if (!data) return <Screen loading={loading || !error} error={error} onRetry={reload} />
  const { me, labels, notifications, templates, quota } = data

  async function read(item: Notification) {
    if (item.read_at) return
    try {
      const done = await api.post<Notification>(`/me/notifications/${item.id}/read`)
      setData({ ...data!, notifications: notifications.map((n) => (n.id === item.id ? done : n)) })
    } catch (failure) {
      toast(messageOf(failure))
    }
  }

  async function readAll() {
    try {
      await api.post('/me/notifications/read-all')
      reload()
    } catch (failure) {
      toast(messageOf(failure))
    }
  }

  async function subscribe() {
    setBusy(true)
    try {
      const results = await requestSubscribe(templates.map((t) => t.template_id))
      const answer = await api.post<{ quota: Record<string, number | string> }>('/me/subscriptions', { results })
      setData({ ...data!, quota: answer.quota })
      toast('已更新订阅', 'success')
    } catch (failure) {
      toast(messageOf(failure))
    } finally {
      setBusy(false)
    }
  }

  async function signOut() {
    await logout()
    home('/pages/index/index')
  }

  const unread = unreadCount(notifications)
  return (
    <Screen>
      <View className='card'>
        <Text className='card-title'>{me.display_name || '微信用户'}</Text>
        <Text className='muted'>{labels.of('role', me.role)}</Text>
      </View>
      <View className='card' id='notifications'>
        <View className='spread'>
          <Text className='card-title'>提醒 {unread > 0 && <Text className='badge'>{unread}</Text>}</Text>
          {unread > 0 && <Button className='btn ghost small' onClick={readAll}>全部已读</Button>}
        </View>
        {notifications.length === 0 && <Text className='muted'>暂无提醒</Text>}
        {notifications.map((n) => (
          <View key={n.id} className='item' onClick={() => read(n)}>
            <View className='spread'>
              <Text style={{ fontWeight: n.read_at ? 'normal' : 'bold' }}>{n.title}</Text>
              {!n.read_at && <Text className='tag bad'>未读</Text>}
            </View>
            <Text className='muted'>{n.body}</Text>
            <Text className='muted small'>{when(n.created_at)} · 微信通知：{labels.of('wechat_state', n.wechat)}</Text>
          </View>
        ))}
      </View>
      <View className='card' id='subscriptions'>
        <Text className='card-title'>微信订阅消息</Text>
        {templates.length === 0 && <Text className='muted'>本系统尚未配置订阅消息模板，提醒只在小程序内显示。</Text>}
        {templates.map((t) => (
          <View key={t.kind} className='spread item'>
            <Text>{labels.of('notification_kind', t.kind)}</Text>
            <Text className='muted'>{quota[t.kind] === 'long_term' ? '已开启' : `还可接收 ${quota[t.kind] ?? 0} 条`}</Text>
          </View>
        ))}
        {templates.length > 0 && (CAN_SUBSCRIBE
          ? <Button className='btn' disabled={busy || undefined} onClick={subscribe}>接收提醒（每次允许一条）</Button>
          : <Text className='muted'>浏览器中无法接收微信订阅消息，请在微信中打开小程序。</Text>)}
      </View>
      <Button className='btn danger' onClick={signOut}>退出登录</Button>
    </Screen>
  )
}
