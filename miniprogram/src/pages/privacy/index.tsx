/** Consent before anything private: WeChat's own (a button of open-type agreePrivacyAuthorization) and
 * the app's (POST /me/privacy-consent with the notice's version). */
import { Button, Text, View } from '@tarojs/components'
import { useState } from 'react'
import { messageOf } from '../../core/errors'
import { NATIVE_CONSENT } from '../../platform/privacy'
import { home } from '../../platform/ui'
import { api, whoAmI } from '../../session'

export default function Privacy() {
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

  async function agree() {
    setBusy(true)
    setError(null)
    try {
      await api.post('/me/privacy-consent', { version: PRIVACY_VERSION })
      await whoAmI(true)
      home('/pages/index/index')
    } catch (failure) {
      setError(messageOf(failure))
    } finally {
      setBusy(false)
    }
  }

  return (
    <View className='page'>
      <View className='card'>
        <Text className='card-title'>隐私保护指引（{PRIVACY_VERSION} 版）</Text>
        <Text className='muted'>
          为办理油烟净化设施清洗登记、餐厨垃圾收运联单、整改答复和投诉，本小程序会收集：您的微信标识（登录）、
          您拍摄或选择的照片、拍照与投诉时的位置、您自愿填写的联系电话。这些信息仅用于城市管理部门的监管工作，
          联系电话加密保存、对外显示时隐去中间四位；记录按规定保存 5 年。您可在“我的”中注销账号。
        </Text>
      </View>
      {error && <Text className='error-text'>{error}</Text>}
      {NATIVE_CONSENT
        ? <Button className='btn' id='agree' openType='agreePrivacyAuthorization' disabled={busy || undefined} onAgreePrivacyAuthorization={agree}>同意并继续</Button>
        : <Button className='btn' id='agree' disabled={busy || undefined} onClick={agree}>同意并继续</Button>}
    </View>
  )
}
