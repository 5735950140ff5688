/** 整改答复: the order's failed items and deadline; signing for it (送达), then the answer — what was
 * done, with photos — which the inspector reviews. */
import { Button, Text, View } from '@tarojs/components'
import { useRouter } from '@tarojs/taro'
import { useCallback, useRef, useState } from 'react'
import Field from '../../components/Field'
import PhotoField, { PhotoFieldHandle } from '../../components/PhotoField'
import Screen from '../../components/Screen'
import { useLoad } from '../../components/useLoad'
import { useSubmit } from '../../components/useSubmit'
import { Labels } from '../../core/labels'
import { Page, Rectification, daysUntil } from '../../core/models'
import { back, toast } from '../../platform/ui'
import { api, today, words } from '../../session'

interface Order extends Rectification {
  acknowledged_at: string | null
}

export default function Answer() {
  const params = useRouter().params
  const id = Number(params.id)
  const load = useCallback(async (): Promise<{ order: Order | undefined; labels: Labels }> => {
    const [page, labels] = await Promise.all([
      api.get<Page<Order>>('/rectifications', { shop_id: Number(params.shop), per_page: 100 }), words()])
    return { order: page.items.find((o) => o.id === id), labels }
  }, [id, params.shop])
  const { data, loading, error: loadError, reload, setData } = useLoad(load)
  const [note, setNote] = useState('')
  const photos = useRef<PhotoFieldHandle | null>(null)
  const { busy, error, field, run, setError } = useSubmit()
  if (!data) return <Screen loading={loading || !loadError} error={loadError} onRetry={reload} />
  const { order, labels } = data
  if (!order) return <Screen empty='整改通知不存在或已处理' />

  async function acknowledge() {
    const signed = await run(() => api.post<Order>(`/rectifications/${id}/acknowledge`))
    if (signed) setData({ order: signed, labels })
  }

  async function submit() {
    if (photos.current?.busy()) return setError('照片还在上传，请稍候')
    const answered = await run(() => api.post<Order>(`/rectifications/${id}/responses`, { note: note.trim(), photo_ids: photos.current?.ids() || [] }))
    if (answered) {
      toast('已提交整改答复', 'success')
      back()
    }
  }

  const left = daysUntil(order.deadline, today())
  return (
    <Screen>
      <View className='card'>
        <View className='spread'>
          <Text className='card-title'>整改通知</Text>
          <Text className={`tag ${order.overdue ? 'bad' : 'warn'}`}>{labels.of('rectification_status', order.status)}</Text>
        </View>
        <Text className={order.overdue ? 'error-text' : ''}>期限 {order.deadline}{left >= 0 ? `（还剩 ${left} 天）` : '（已逾期）'}</Text>
        {order.items.map((code) => <Text key={code} className='step'>· {labels.of('checklist_item', code)}</Text>)}
        {!order.acknowledged_at && <Button className='btn ghost' disabled={busy || undefined} onClick={acknowledge}>签收</Button>}
      </View>
      {order.status === 'open' && (
        <View className='card'>
          <Text className='card-title'>整改答复</Text>
          <Field label='整改情况' name='note' value={note} onInput={setNote} error={field('note')} multiline maxlength={1000} />
          <PhotoField label='整改后照片' name='photos' onReady={(h) => { photos.current = h }} />
          {field('photo_ids') && <Text className='field-error'>{field('photo_ids')}</Text>}
          {error && <Text className='error-text'>{error}</Text>}
          <Button className='btn' disabled={busy || undefined} onClick={submit}>{busy ? '正在提交…' : '提交答复'}</Button>
        </View>
      )}
    </Screen>
  )
}
