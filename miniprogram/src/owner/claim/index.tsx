/** 认领店铺: the district gives the shop a one-time claim code (a QR on the claim sheet); scanning it,
 * opening the mini-program from it, or typing it makes the caller the shop's manager. */
import { Button, Text, View } from '@tarojs/components'
import { useRouter } from '@tarojs/taro'
import { useState } from 'react'
import Field from '../../components/Field'
import { useSubmit } from '../../components/useSubmit'
import { claimCodeOf, claimCodeOfQuery, isClaimCode, normaliseCode } from '../../core/claim'
import { Shop } from '../../core/models'
import { CAN_SCAN, scan } from '../../platform/scan'
import { replace, toast } from '../../platform/ui'
import { api, whoAmI } from '../../session'

export default function Claim() {
  const params = useRouter().params as Record<string, string>
  const [code, setCode] = useState(claimCodeOfQuery(params) || '')
  const { busy, error, field, run, setError } = useSubmit()

  async function scanIt() {
    const text = await scan()
    if (text === null) return
    const found = claimCodeOf(text)
    if (found) setCode(found)
    else setError('这不是店铺认领码，请扫描区县发放的认领二维码')
  }

  async function claim() {
    if (!isClaimCode(code)) {
      setError('认领码为 16 位字母和数字，请核对')
      return
    }
    const shop = await run(() => api.post<Shop>('/shops/claim', { code: normaliseCode(code) }))
    if (shop) {
      await whoAmI(true)
      toast('认领成功', 'success')
      replace(`/owner/shop/index?id=${shop.id}`)
    }
  }

  return (
    <View className='page'>
      <View className='card'>
        <Text className='card-title'>认领店铺</Text>
        <Text className='muted'>请扫描区县城管部门发放的店铺认领二维码，或输入二维码下方的 16 位认领码。</Text>
        {CAN_SCAN && <Button className='btn ghost' onClick={scanIt}>扫码认领</Button>}
        <Field label='认领码' name='code' value={code} onInput={setCode} error={field('code')} placeholder='如 ABCD-EFGH-JKLM-NPQR' maxlength={24} />
        {error && <Text className='error-text'>{error}</Text>}
        <Button className='btn' disabled={busy || undefined} onClick={claim}>{busy ? '正在认领…' : '认领'}</Button>
      </View>
    </View>
  )
}
