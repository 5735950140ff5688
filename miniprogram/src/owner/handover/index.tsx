/** 开具收运联单 (the shop starts a slip): when, what, how much, the contracted company; the company
 * confirms it with the weighed figure.  The slip's status shows on the shop's page. */
import { Button, Picker, Text, View } from '@tarojs/components'
import { useRouter } from '@tarojs/taro'
import { useCallback, useRef, useState } from 'react'
import Field from '../../components/Field'
import PhotoField, { PhotoFieldHandle } from '../../components/PhotoField'
import Screen from '../../components/Screen'
import { useLoad } from '../../components/useLoad'
import { useSubmit } from '../../components/useSubmit'
import { Labels } from '../../core/labels'
import { Handover, Shop, nowInJining } from '../../core/models'
import { back, toast } from '../../platform/ui'
import { api, words } from '../../session'

interface Company {
  id: number
  name: string
  districts: string[]
  licence_valid: boolean
}

const TYPES = ['kitchen_waste', 'waste_oil']

export default function StartSlip() {
  const shopId = Number(useRouter().params.shop)
  const load = useCallback(async (): Promise<{ labels: Labels; companies: Company[] }> => {
    const [labels, shop, companies] = await Promise.all([words(), api.get<Shop>(`/shops/${shopId}`), api.get<Company[]>('/collectors')])
    return { labels, companies: companies.filter((c) => c.licence_valid && c.districts.includes(shop.district_code)) }
  }, [shopId])
  const { data, loading, error: loadError, reload } = useLoad(load)
  const [type, setType] = useState(0)
  const [company, setCompany] = useState(0)
  const [bins, setBins] = useState('')
  const [kg, setKg] = useState('')
  const photos = useRef<PhotoFieldHandle | null>(null)
  const { busy, error, field, run, setError } = useSubmit()
  if (!data) return <Screen loading={loading || !loadError} error={loadError} onRetry={reload} />
  const { labels, companies } = data
  if (!companies.length) return <Screen empty='本区县暂无持证收运单位，请联系区县城管部门' />

  async function submit() {
    if (photos.current?.busy()) return setError('照片还在上传，请稍候')
    const body = { handed_over_at: nowInJining(), waste_type: TYPES[type], collector_company_id: companies[company].id,
                   ...(bins ? { bins: Number(bins) } : {}), ...(kg ? { declared_kg: Number(kg) } : {}),
                   photo_ids: photos.current?.ids() || [] }
    const slip = await run(() => api.post<Handover>(`/shops/${shopId}/handovers`, body))
    if (slip) {
      toast(`已开具联单 ${slip.serial}`, 'success')
      back()
    }
  }

  return (
    <Screen>
      <View className='card'>
        <View className='field'>
          <Text className='label'>废弃物类型</Text>
          <Picker mode='selector' range={TYPES.map((t) => labels.of('waste_type', t))} value={type} onChange={(e) => setType(Number(e.detail.value))}>
            <View className='picker'>{labels.of('waste_type', TYPES[type])}</View>
          </Picker>
        </View>
        <View className='field'>
          <Text className='label'>收运单位（签订合同的单位）</Text>
          <Picker mode='selector' range={companies.map((c) => c.name)} value={company} onChange={(e) => setCompany(Number(e.detail.value))}>
            <View className='picker'>{companies[company].name}</View>
          </Picker>
          {field('collector_company_id') && <Text className='field-error'>{field('collector_company_id')}</Text>}
        </View>
        <Field label='桶数（选填）' name='bins' type='number' value={bins} onInput={setBins} error={field('bins')} maxlength={3} />
        <Field label='申报重量 kg（选填）' name='declared_kg' type='digit' value={kg} onInput={setKg} error={field('declared_kg')} maxlength={8} />
        <PhotoField label='照片（选填）' name='photos' max={3} onReady={(h) => { photos.current = h }} />
        {error && <Text className='error-text'>{error}</Text>}
        <Button className='btn' disabled={busy || undefined} onClick={submit}>{busy ? '正在提交…' : '开具联单'}</Button>
      </View>
    </Screen>
  )
}
