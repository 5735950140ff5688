/** 修改店铺信息: name, address and contact change at once; what the grading rests on — cooking heads,
 * the purifier, the district, the place — goes to the district as a change request (202), and the
 * requests so far are listed with their status. */
import { Button, Switch, Text, View } from '@tarojs/components'
import { useRouter } from '@tarojs/taro'
import { useCallback, useState } from 'react'
import Field from '../../components/Field'
import Screen from '../../components/Screen'
import Where, { Place } from '../../components/Where'
import { useLoad } from '../../components/useLoad'
import { useSubmit } from '../../components/useSubmit'
import { Labels } from '../../core/labels'
import { Shop, when } from '../../core/models'
import { toast } from '../../platform/ui'
import { api, words } from '../../session'

interface ChangeRequest {
  id: number
  status: string
  changes: Record<string, unknown>
  requested_at: string
  note: string | null
}

interface Loaded {
  shop: Shop & { contact_name: string | null; purifier: { installed: boolean; rated_efficiency: number | null } }
  requests: ChangeRequest[]
  labels: Labels
}

export default function Change() {
  const id = Number(useRouter().params.shop)
  const load = useCallback(async (): Promise<Loaded> => {
    const [shop, requests, labels] = await Promise.all([
      api.get<Loaded['shop']>(`/shops/${id}`), api.get<ChangeRequest[] | { items: ChangeRequest[] }>(`/shops/${id}/change-requests`), words()])
    return { shop, requests: Array.isArray(requests) ? requests : requests.items, labels }
  }, [id])
  const { data, loading, error: loadError, reload } = useLoad(load)
  if (!data) return <Screen loading={loading || !loadError} error={loadError} onRetry={reload} />
  return <ChangeForm key={data.shop.id} {...data} onDone={reload} />
}

function ChangeForm({ shop, requests, labels, onDone }: Loaded & { onDone: () => void }) {
  const [name, setName] = useState(shop.name)
  const [address, setAddress] = useState(shop.address)
  const [contact, setContact] = useState(shop.contact_name || '')
  const [heads, setHeads] = useState(String(shop.cooking_heads))
  const [purifier, setPurifier] = useState(shop.purifier.installed)
  const [place, setPlace] = useState<Place>({ lat: String(shop.lat), lng: String(shop.lng) })
  const { busy, error, field, run, setError } = useSubmit()

  async function submit() {
    const body: Record<string, unknown> = {}
    if (name.trim() !== shop.name) body.name = name.trim()
    if (address.trim() !== shop.address) body.address = address.trim()
    if (contact.trim() !== (shop.contact_name || '')) body.contact_name = contact.trim() || null
    if (Number(heads) !== shop.cooking_heads) body.cooking_heads = Number(heads)
    if (purifier !== shop.purifier.installed) body.purifier = { installed: purifier }
    if (Number(place.lat) !== shop.lat || Number(place.lng) !== shop.lng) Object.assign(body, { lat: Number(place.lat), lng: Number(place.lng) })
    if (!Object.keys(body).length) return setError('没有修改任何内容')
    const answer = await run(() => api.patch<Record<string, unknown>>(`/shops/${shop.id}`, body))
    if (!answer) return
    toast('changes' in answer ? '已提交变更申请，待区县审批' : '已保存', 'success')
    onDone()
  }

  return (
    <Screen>
      <View className='card'>
        <Text className='muted'>灶头数、净化设施、区县和位置的修改需区县审批；其余即时生效。</Text>
        <Field label='店铺名称' name='name' value={name} onInput={setName} error={field('name')} maxlength={100} />
        <Field label='经营地址' name='address' value={address} onInput={setAddress} error={field('address')} />
        <Field label='联系人' name='contact_name' value={contact} onInput={setContact} error={field('contact_name')} maxlength={64} />
        <Field label='基准灶头数（需审批）' name='cooking_heads' type='number' value={heads} onInput={setHeads} error={field('cooking_heads')} maxlength={3} />
        <View className='spread field'>
          <Text className='label'>已安装油烟净化设施（需审批）</Text>
          <Switch checked={purifier} onChange={(e) => setPurifier(e.detail.value)} />
        </View>
        <Where value={place} onChange={setPlace} error={field('lat') || field('lng')} onError={setError} />
        {error && <Text className='error-text'>{error}</Text>}
        <Button className='btn' disabled={busy || undefined} onClick={submit}>{busy ? '正在提交…' : '提交'}</Button>
      </View>
      <View className='card' id='requests'>
        <Text className='card-title'>变更申请</Text>
        {requests.length === 0 && <Text className='muted'>没有变更申请</Text>}
        {requests.map((r) => (
          <View key={r.id} className='item'>
            <View className='spread'>
              <Text>{Object.keys(r.changes).map((k) => labels.of('shop_field', k)).join('、')}</Text>
              <Text className={`tag ${r.status === 'approved' ? 'good' : r.status === 'rejected' ? 'bad' : 'warn'}`}>
                {labels.of('change_request_status', r.status)}</Text>
            </View>
            <Text className='muted'>{when(r.requested_at)}{r.note ? ` · ${r.note}` : ''}</Text>
          </View>
        ))}
      </View>
    </Screen>
  )
}
