/** Logging in where wx.login cannot: a browser.  A development build logs in as dev-<name>; otherwise
 * staff use their console username and password.  In WeChat this page only offers to try again. */
import { Button, Input, Text, View } from '@tarojs/components'
import { useState } from 'react'
import { messageOf } from '../../core/errors'
import { PASSWORD_LOGIN } from '../../platform/auth'
import * as auth from '../../platform/auth'
import { home } from '../../platform/ui'
import { forget, passwordLogin, whoAmI } from '../../session'

export default function Login() {
  const [name, setName] = useState('')
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

  async function submit() {
    setBusy(true)
    setError(null)
    try {
      forget()
      if (PASSWORD_LOGIN) {
        if (!username.trim() || !password) throw new Error('empty')
        await passwordLogin(username.trim(), password)
      } else {
        const remember = (auth as { rememberDevName?: (n: string) => void }).rememberDevName
        if (remember) {
          if (!/^[A-Za-z0-9_-]{1,40}$/.test(name.trim())) throw new Error('name')
          remember(name.trim())
        }
        await whoAmI(true)
      }
      home('/pages/index/index')
    } catch (failure) {
      const text = failure instanceof Error && failure.message === 'empty' ? '请输入用户名和密码'
        : failure instanceof Error && failure.message === 'name' ? '请输入 1–40 位字母、数字、下划线或短横线'
          : messageOf(failure)
      setError(text)
    } finally {
      setBusy(false)
    }
  }

  const devLogin = !PASSWORD_LOGIN && Boolean((auth as { rememberDevName?: unknown }).rememberDevName)
  return (
    <View className='page'>
      <View className='card'>
        <Text className='card-title'>餐厨智慧 · 登录</Text>
        {PASSWORD_LOGIN && (
          <>
            <Text className='muted'>浏览器中仅供工作人员使用：请输入监管后台的用户名和密码。</Text>
            <View className='field'><Text className='label'>用户名</Text>
              <Input className='input' name='username' value={username} onInput={(e) => setUsername(e.detail.value)} /></View>
            <View className='field'><Text className='label'>密码</Text>
              <Input className='input' name='password' password value={password} onInput={(e) => setPassword(e.detail.value)} /></View>
          </>
        )}
        {devLogin && (
          <>
            <Text className='muted'>开发环境：以 dev-名字 登录（服务器须处于开发模式）。</Text>
            <View className='field'><Text className='label'>名字</Text>
              <Input className='input' name='dev-name' value={name} placeholder='如 wang' onInput={(e) => setName(e.detail.value)} /></View>
          </>
        )}
        {!PASSWORD_LOGIN && !devLogin && <Text className='muted'>微信登录未完成，请检查网络后重试。</Text>}
        {error && <Text className='error-text'>{error}</Text>}
        <Button className='btn' id='login' disabled={busy || undefined} onClick={submit}>{busy ? '正在登录…' : '登录'}</Button>
      </View>
    </View>
  )
}
