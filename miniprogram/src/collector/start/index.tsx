/** 开具联单 (the collector starts a slip for a shop under contract with my company); the shop confirms. */
import { Button, Picker, Text, View } from '@tarojs/components'
import { useCallback, useRef, useState } from 'react'
import Field from '../../components/Field'
import PhotoField, { PhotoFieldHandle } from '../../components/PhotoField'
import Screen from '../../components/Screen'
import { useLoad } from '../../components/useLoad'
import { useSubmit } from '../../components/useSubmit'
import { Labels } from '../../core/labels'
import { Handover, Me, Page, Shop, nowInJining } from '../../core/models'
import { back, toast } from '../../platform/ui'
import { api, whoAmI, words } from '../../session'

const TYPES = ['kitchen_waste', 'waste_oil']

export default function CollectorStart() {
  const load = useCallback(async (): Promise<{ me: Me; shops: Shop[]; labels: Labels }> => {
    const [me, shops, labels] = await Promise.all([whoAmI(), api.get<Page<Shop>>('/shops', { per_page: 100 }), words()])
    return { me, shops: shops.items, labels }
  }, [])
  const { data, loading, error: loadError, reload } = useLoad(load)
  const [shop, setShop] = useState(0)
  const [type, setType] = useState(0)
  const [kg, setKg] = useState('')
  const photos = useRef<PhotoFieldHandle | null>(null)
  const { busy, error, field, run, setError } = useSubmit()
  if (!data) return <Screen loading={loading || !loadError} error={loadError} onRetry={reload} />
  if (!data.shops.length) return <Screen empty='本单位暂无签约店铺' />
  const { me, shops, labels } = data

  async function submit() {
    if (photos.current?.busy()) return setError('照片还在上传，请稍候')
    const slip = await run(() => api.post<Handover>(`/shops/${shops[shop].id}/handovers`, {
      handed_over_at: nowInJining(), waste_type: TYPES[type], collector_company_id: me.collector_company_id,
      ...(kg ? { weighed_kg: Number(kg) } : {}), photo_ids: photos.current?.ids() || [] }))
    if (slip) {
      toast(`已开具联单 ${slip.serial}`, 'success')
      back()
    }
  }

  return (
    <Screen>
      <View className='card'>
        <View className='field'>
          <Text className='label'>店铺</Text>
          <Picker mode='selector' range={shops.map((s) => s.name)} value={shop} onChange={(e) => setShop(Number(e.detail.value))}>
            <View className='picker'>{shops[shop].name}</View>
          </Picker>
        </View>
        <View className='field'>
          <Text className='label'>废弃物类型</Text>
          <Picker mode='selector' range={TYPES.map((t) => labels.of('waste_type', t))} value={type} onChange={(e) => setType(Number(e.detail.value))}>
            <View className='picker'>{labels.of('waste_type', TYPES[type])}</View>
          </Picker>
        </View>
        <Field label='称重 kg' name='weighed_kg' type='digit' value={kg} onInput={setKg} error={field('weighed_kg')} maxlength={8} />
        <PhotoField label='照片（选填）' name='photos' max={3} onReady={(h) => { photos.current = h }} />
        {error && <Text className='error-text'>{error}</Text>}
        <Button className='btn' disabled={busy || undefined} onClick={submit}>{busy ? '正在提交…' : '开具联单'}</Button>
      </View>
    </Screen>
  )
}
