/** 待确认联单: my company's pending slips, newest first; confirm with the weighed kg and a photo, or
 * reject with a reason. */
import { Button, Text, View } from '@tarojs/components'
import { useCallback, useRef, useState } from 'react'
import Field from '../../components/Field'
import PhotoField, { PhotoFieldHandle } from '../../components/PhotoField'
import Screen from '../../components/Screen'
import { useLoad } from '../../components/useLoad'
import { useSubmit } from '../../components/useSubmit'
import { Labels } from '../../core/labels'
import { Handover, Page, Shop, slipView } from '../../core/models'
import { toast } from '../../platform/ui'
import { api, words } from '../../session'

export default function PendingSlips() {
  const load = useCallback(async (): Promise<{ slips: Handover[]; labels: Labels; shops: Record<number, string> }> => {
    const [page, labels, shops] = await Promise.all([
      api.get<Page<Handover>>('/handovers', { status: 'pending', per_page: 50 }), words(),
      api.get<Page<Shop>>('/shops', { per_page: 100 })])  // the shops under contract with my company
    return { slips: page.items, labels, shops: Object.fromEntries(shops.items.map((s) => [s.id, s.name])) }
  }, [])
  const { data, loading, error, reload } = useLoad(load)
  const [open, setOpen] = useState<number | null>(null)
  if (!data) return <Screen loading={loading || !error} error={error} onRetry={reload} />
  // Mine to answer: those the shops started; those we started wait for the shop.
  const mine = data.slips.filter((slip) => slip.started_by_party !== 'collector')
  const waiting = data.slips.filter((slip) => slip.started_by_party === 'collector')
  return (
    <Screen empty={mine.length === 0 && '没有待确认的联单'}>
      {mine.map((slip) => (
        <SlipCard key={slip.id} slip={slip} labels={data.labels} shop={data.shops[slip.shop_id] || `店铺 ${slip.shop_id}`} open={open === slip.id}
                  onOpen={() => setOpen(open === slip.id ? null : slip.id)} onDone={() => { setOpen(null); reload() }} />
      ))}
      {waiting.length > 0 && (
        <View className='card' id='waiting'>
          <Text className='card-title'>等待店铺确认</Text>
          {waiting.map((slip) => {
            const view = slipView(slip, data.labels)
            return (
              <View key={slip.id} className='item'>
                <Text className='line'>{data.shops[slip.shop_id] || `店铺 ${slip.shop_id}`} · {view.title}</Text>
                <Text className='muted'>{view.time} · {view.amount}</Text>
              </View>
            )
          })}
        </View>
      )}
    </Screen>
  )
}

interface CardProps {
  slip: Handover
  labels: Labels
  shop: string
  open: boolean
  onOpen: () => void
  onDone: () => void
}

function SlipCard({ slip, labels, shop, open, onOpen, onDone }: CardProps) {
  const view = slipView(slip, labels)
  const [kg, setKg] = useState(slip.declared_kg !== null ? String(slip.declared_kg) : '')
  const [reason, setReason] = useState('')
  const photos = useRef<PhotoFieldHandle | null>(null)
  const { busy, error, field, run, setError } = useSubmit()

  async function confirm() {
    if (photos.current?.busy()) return setError('照片还在上传，请稍候')
    const done = await run(() => api.post<Handover>(`/handovers/${slip.id}/confirm`, {
      ...(kg ? { weighed_kg: Number(kg) } : {}), photo_ids: photos.current?.ids() || [] }))
    if (done) {
      toast(done.status === 'disputed' ? '已确认：与申报差异较大，标为有争议' : '已确认', done.status === 'disputed' ? 'none' : 'success')
      onDone()
    }
  }

  async function reject() {
    if (!reason.trim()) return setError('请填写拒收原因')
    if (await run(() => api.post(`/handovers/${slip.id}/reject`, { reason: reason.trim() }))) {
      toast('已拒收')
      onDone()
    }
  }

  return (
    <View className='card slip'>
      <View className='spread' onClick={onOpen}>
        <Text className='card-title'>{view.title}</Text>
        <Text className={`tag ${view.tone}`}>{view.status}</Text>
      </View>
      <Text className='line'>{shop}</Text>
      <Text className='muted'>{view.time} · {view.amount}</Text>
      {!open && <Button className='btn ghost small' onClick={onOpen}>处理</Button>}
      {open && (
        <View>
          <Field label='称重 kg' name='weighed_kg' type='digit' value={kg} onInput={setKg} error={field('weighed_kg')} maxlength={8} />
          <PhotoField label='称重照片' name='weighing' max={3} onReady={(h) => { photos.current = h }} />
          <Button className='btn' disabled={busy || undefined} onClick={confirm}>确认收运</Button>
          <Field label='拒收原因' name='reason' value={reason} onInput={setReason} error={field('reason')} maxlength={500} />
          <Button className='btn danger' disabled={busy || undefined} onClick={reject}>拒收</Button>
          {error && <Text className='error-text'>{error}</Text>}
        </View>
      )}
    </View>
  )
}
