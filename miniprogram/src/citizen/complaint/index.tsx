/** 我要投诉: what (category), what happened, where (GPS, the map, or typed), photos, a phone if the
 * citizen wants a call back; the answer shows the district it went to, the shops nearby and a possible
 * duplicate. */
import { Button, Picker, Text, View } from '@tarojs/components'
import { useCallback, useRef, useState } from 'react'
import Field from '../../components/Field'
import PhotoField, { PhotoFieldHandle } from '../../components/PhotoField'
import Screen from '../../components/Screen'
import Where, { Place } from '../../components/Where'
import { useLoad } from '../../components/useLoad'
import { useSubmit } from '../../components/useSubmit'
import { Complaint } from '../../core/models'
import { go } from '../../platform/ui'
import { api, words } from '../../session'

const CATEGORIES = ['fume', 'open_air_bbq', 'outside_store', 'waste_dumping']

export default function NewComplaint() {
  const { data: labels, loading, error: loadError, reload } = useLoad(useCallback(() => words(), []))
  const [category, setCategory] = useState(0)
  const [description, setDescription] = useState('')
  const [place, setPlace] = useState<Place>({ lat: '', lng: '' })
  const [address, setAddress] = useState('')
  const [phone, setPhone] = useState('')
  const [filed, setFiled] = useState<Complaint | null>(null)
  const photos = useRef<PhotoFieldHandle | null>(null)
  const { busy, error, field, run, setError } = useSubmit()
  if (!labels) return <Screen loading={loading || !loadError} error={loadError} onRetry={reload} />

  async function submit() {
    if (!place.lat || !place.lng) return setError('请提供投诉地点：使用当前位置或填写坐标')
    if (photos.current?.busy()) return setError('照片还在上传，请稍候')
    const body = { category: CATEGORIES[category], description: description.trim(), lat: Number(place.lat), lng: Number(place.lng),
                   ...(address.trim() ? { address: address.trim() } : {}), photo_ids: photos.current?.ids() || [],
                   ...(phone.trim() ? { contact_phone: phone.trim() } : {}) }
    const made = await run(() => api.post<Complaint>('/complaints', body))
    if (made) setFiled(made)
  }

  if (filed) {
    const names = labels!
    return (
      <Screen>
        <View className='card' id='filed'>
          <Text className='card-title'>投诉已提交</Text>
          <Text>编号 {filed.id} · {names.of('complaint_status', filed.status)} · 转 {names.of('district', filed.district_code)} 城管部门处理</Text>
          {filed.possible_duplicate_of && <Text className='notice'>附近已有同类投诉（编号 {filed.possible_duplicate_of}）正在处理，工作人员会一并核实。</Text>}
          <Text className='label'>附近 100 米内的店铺</Text>
          {(filed.nearby_shops || []).length === 0 && <Text className='muted'>附近没有登记的店铺</Text>}
          {(filed.nearby_shops || []).map((shop) => <Text key={shop.id} className='step'>{shop.name}（约 {Math.round(shop.distance_m)} 米）</Text>)}
        </View>
        <Button className='btn' onClick={() => go('/citizen/complaints/index')}>查看我的投诉</Button>
      </Screen>
    )
  }

  return (
    <Screen>
      <View className='card'>
        <View className='field'>
          <Text className='label'>投诉类型</Text>
          <Picker mode='selector' range={CATEGORIES.map((c) => labels.of('complaint_category', c))} value={category}
                  onChange={(e) => setCategory(Number(e.detail.value))}>
            <View className='picker'>{labels.of('complaint_category', CATEGORIES[category])}</View>
          </Picker>
        </View>
        <Field label='情况描述' name='description' value={description} onInput={setDescription} error={field('description')} multiline
               placeholder='时间、地点、现象，如：每晚 8 点后油烟直排居民楼' />
        <Where value={place} onChange={setPlace} error={field('lat') || field('lng') || field('district_code')} onError={setError} />
        <Field label='地址（选填）' name='address' value={address} onInput={setAddress} error={field('address')} />
        <PhotoField label='照片（选填）' name='photos' max={6} onReady={(h) => { photos.current = h }} />
        <Field label='联系电话（选填，仅工作人员可见）' name='contact_phone' type='number' value={phone} onInput={setPhone}
               error={field('contact_phone')} maxlength={13} />
        {error && <Text className='error-text'>{error}</Text>}
        <Button className='btn' disabled={busy || undefined} onClick={submit}>{busy ? '正在提交…' : '提交投诉'}</Button>
      </View>
    </Screen>
  )
}
