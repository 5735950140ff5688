/** 登记新店铺: the shop's profile, its credit code checked as it is typed, its place from GPS or the map;
 * the registrant becomes its manager.  A point in another district is stored with a warning. */
import { Button, Picker, Switch, Text, View } from '@tarojs/components'
import { useCallback, useState } from 'react'
import Field from '../../components/Field'
import Screen from '../../components/Screen'
import Where, { Place } from '../../components/Where'
import { useLoad } from '../../components/useLoad'
import { useSubmit } from '../../components/useSubmit'
import { Shop } from '../../core/models'
import { usccProblem } from '../../core/uscc'
import { confirm, replace } from '../../platform/ui'
import { api, whoAmI } from '../../session'

interface District {
  code: string
  name: string
}

export default function Register() {
  const load = useCallback(() => api.get<District[]>('/districts'), [])
  const { data: districts, loading, error: loadError, reload } = useLoad(load)
  const [name, setName] = useState('')
  const [uscc, setUscc] = useState('')
  const [address, setAddress] = useState('')
  const [district, setDistrict] = useState(0)
  const [place, setPlace] = useState<Place>({ lat: '', lng: '' })
  const [heads, setHeads] = useState('')
  const [contact, setContact] = useState('')
  const [phone, setPhone] = useState('')
  const [purifier, setPurifier] = useState(true)
  const [efficiency, setEfficiency] = useState('')
  const { busy, error, field, run, setError } = useSubmit()
  if (!districts) return <Screen loading={loading || !loadError} error={loadError} onRetry={reload} />
  const usccHint = usccProblem(uscc, false)

  async function submit() {
    const problem = usccProblem(uscc)
    if (problem) return setError(`统一社会信用代码：${problem}`)
    if (!place.lat || !place.lng) return setError('请填写店铺位置（使用当前位置或填写坐标）')
    const body = {
      name: name.trim(), uscc: uscc.trim().toUpperCase(), address: address.trim(), district_code: districts![district].code,
      lat: Number(place.lat), lng: Number(place.lng), cooking_heads: Number(heads),
      ...(contact.trim() ? { contact_name: contact.trim() } : {}), ...(phone.trim() ? { contact_phone: phone.trim() } : {}),
      purifier: { installed: purifier, ...(purifier && efficiency ? { rated_efficiency: Number(efficiency) } : {}) }
    }
    const shop = await run(() => api.post<Shop>('/shops', body))
    if (!shop) return
    await whoAmI(true)
    for (const warning of shop.warnings || []) await confirm('请核对', warning.message)
    replace(`/owner/shop/index?id=${shop.id}`)
  }

  return (
    <Screen>
      <View className='card'>
        <Field label='店铺名称' name='name' value={name} onInput={setName} error={field('name')} maxlength={100} />
        <Field label='统一社会信用代码' name='uscc' value={uscc} onInput={setUscc} error={field('uscc') || usccHint || undefined}
               hint='营业执照上的 18 位代码' maxlength={18} />
        <Field label='经营地址' name='address' value={address} onInput={setAddress} error={field('address')} />
        <View className='field'>
          <Text className='label'>所在区县</Text>
          <Picker mode='selector' range={districts.map((d) => d.name)} value={district} onChange={(e) => setDistrict(Number(e.detail.value))}>
            <View className='picker'>{districts[district]?.name}</View>
          </Picker>
          {field('district_code') && <Text className='field-error'>{field('district_code')}</Text>}
        </View>
        <Where value={place} onChange={setPlace} error={field('lat') || field('lng')} onError={setError} />
        <Field label='基准灶头数' name='cooking_heads' type='number' value={heads} onInput={setHeads} error={field('cooking_heads')} maxlength={3} />
        <Field label='联系人（选填）' name='contact_name' value={contact} onInput={setContact} error={field('contact_name')} maxlength={64} />
        <Field label='联系电话（选填）' name='contact_phone' type='number' value={phone} onInput={setPhone} error={field('contact_phone')} maxlength={13} />
        <View className='spread field'>
          <Text className='label'>已安装油烟净化设施</Text>
          <Switch checked={purifier} onChange={(e) => setPurifier(e.detail.value)} />
        </View>
        {purifier && <Field label='净化效率 %（选填）' name='rated_efficiency' type='digit' value={efficiency} onInput={setEfficiency}
                            error={field('purifier.rated_efficiency')} maxlength={5} />}
        {error && <Text className='error-text'>{error}</Text>}
        <Button className='btn' disabled={busy || undefined} onClick={submit}>{busy ? '正在提交…' : '登记'}</Button>
      </View>
    </Screen>
  )
}
