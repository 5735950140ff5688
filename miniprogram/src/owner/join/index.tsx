/** 加入店铺: a staff member types the one-time code the shop's manager gave. */
import { Button, Text, View } from '@tarojs/components'
import { useState } from 'react'
import Field from '../../components/Field'
import { useSubmit } from '../../components/useSubmit'
import { isClaimCode, normaliseCode } from '../../core/claim'
import { Shop } from '../../core/models'
import { replace, toast } from '../../platform/ui'
import { api, whoAmI } from '../../session'

export default function Join() {
  const [code, setCode] = useState('')
  const { busy, error, field, run, setError } = useSubmit()

  async function join() {
    if (!isClaimCode(code)) return setError('加入码为 16 位字母和数字，请核对')
    const shop = await run(() => api.post<Shop>('/shops/join', { code: normaliseCode(code) }))
    if (shop) {
      await whoAmI(true)
      toast('已加入店铺', 'success')
      replace(`/owner/shop/index?id=${shop.id}`)
    }
  }

  return (
    <View className='page'>
      <View className='card'>
        <Text className='card-title'>加入店铺</Text>
        <Text className='muted'>请输入店铺负责人给您的 16 位加入码。</Text>
        <Field label='加入码' name='code' value={code} onInput={setCode} error={field('code')} maxlength={24} />
        {error && <Text className='error-text'>{error}</Text>}
        <Button className='btn' disabled={busy || undefined} onClick={join}>{busy ? '正在加入…' : '加入'}</Button>
      </View>
    </View>
  )
}
