/** 登记清洗: the day, the parts cleaned, who cleaned, photos before and after (from the camera, with
 * their upload progress); the next due date follows on the shop's page. */
import { Button, Checkbox, CheckboxGroup, Label, Picker, Radio, RadioGroup, Text, View } from '@tarojs/components'
import { useRouter } from '@tarojs/taro'
import { useCallback, useRef, useState } from 'react'
import Field from '../../components/Field'
import PhotoField, { PhotoFieldHandle } from '../../components/PhotoField'
import Screen from '../../components/Screen'
import { useLoad } from '../../components/useLoad'
import { useSubmit } from '../../components/useSubmit'
import { back, toast } from '../../platform/ui'
import { api, today, words } from '../../session'

const PARTS = ['purifier', 'hood', 'duct', 'fan']

export default function Cleaning() {
  const shop = Number(useRouter().params.shop)
  const { data: labels, loading, error: loadError, reload } = useLoad(useCallback(() => words(), []))
  const [day, setDay] = useState(today())
  const [parts, setParts] = useState<string[]>(['purifier', 'hood'])
  const [by, setBy] = useState<'self' | 'company'>('self')
  const [company, setCompany] = useState('')
  const [note, setNote] = useState('')
  const before = useRef<PhotoFieldHandle | null>(null)
  const after = useRef<PhotoFieldHandle | null>(null)
  const { busy, error, field, run, setError } = useSubmit()
  if (!labels) return <Screen loading={loading || !loadError} error={loadError} onRetry={reload} />

  async function submit() {
    if (before.current?.busy() || after.current?.busy()) return setError('照片还在上传，请稍候')
    if (before.current?.failed() || after.current?.failed()) return setError('有照片上传失败，请点击照片重试或删除')
    const body = { cleaned_on: day, parts, performed_by: by, ...(by === 'company' ? { company_name: company.trim() } : {}),
                   before_photo_ids: before.current?.ids() || [], after_photo_ids: after.current?.ids() || [],
                   ...(note.trim() ? { note: note.trim() } : {}) }
    const made = await run(() => api.post(`/shops/${shop}/cleanings`, body))
    if (made) {
      toast('已登记清洗', 'success')
      back()
    }
  }

  return (
    <Screen>
      <View className='card'>
        <View className='field'>
          <Text className='label'>清洗日期</Text>
          <Picker mode='date' value={day} end={today()} onChange={(e) => setDay(e.detail.value)}>
            <View className='picker'>{day}</View>
          </Picker>
          {field('cleaned_on') && <Text className='field-error'>{field('cleaned_on')}</Text>}
        </View>
        <View className='field'>
          <Text className='label'>清洗部位</Text>
          <CheckboxGroup onChange={(e) => setParts(e.detail.value as string[])}>
            <View className='row'>
              {PARTS.map((part) => (
                <Label key={part} className='row'><Checkbox value={part} checked={parts.includes(part)} /><Text>{labels.of('cleaning_part', part)}</Text></Label>
              ))}
            </View>
          </CheckboxGroup>
          {field('parts') && <Text className='field-error'>{field('parts')}</Text>}
        </View>
        <View className='field'>
          <Text className='label'>清洗方式</Text>
          <RadioGroup onChange={(e) => setBy(e.detail.value as 'self' | 'company')}>
            <View className='row'>
              {(['self', 'company'] as const).map((way) => (
                <Label key={way} className='row'><Radio value={way} checked={by === way} /><Text>{labels.of('performed_by', way)}</Text></Label>
              ))}
            </View>
          </RadioGroup>
        </View>
        {by === 'company' && <Field label='清洗公司' name='company_name' value={company} onInput={setCompany} error={field('company_name')} maxlength={100} />}
        <PhotoField label='清洗前照片' name='before' onReady={(h) => { before.current = h }} />
        {field('before_photo_ids') && <Text className='field-error'>{field('before_photo_ids')}</Text>}
        <PhotoField label='清洗后照片' name='after' onReady={(h) => { after.current = h }} />
        {field('after_photo_ids') && <Text className='field-error'>{field('after_photo_ids')}</Text>}
        <Field label='备注（选填）' name='note' value={note} onInput={setNote} multiline maxlength={500} />
        {error && <Text className='error-text'>{error}</Text>}
        <Button className='btn' disabled={busy || undefined} onClick={submit}>{busy ? '正在提交…' : '提交'}</Button>
      </View>
    </Screen>
  )
}
