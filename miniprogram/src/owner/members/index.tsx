/** 店员: the shop's members; the manager invites a staff member with a one-time code (shown once, to
 * pass on) and may remove one. */
import { Button, Text, View } from '@tarojs/components'
import { useRouter } from '@tarojs/taro'
import { useCallback, useState } from 'react'
import Screen from '../../components/Screen'
import { useLoad } from '../../components/useLoad'
import { useSubmit } from '../../components/useSubmit'
import { Labels } from '../../core/labels'
import { Me, when } from '../../core/models'
import { confirm, toast } from '../../platform/ui'
import { api, whoAmI, words } from '../../session'

interface Member {
  user_id: number
  display_name: string | null
  role: string
  joined_at: string
}

export default function Members() {
  const id = Number(useRouter().params.shop)
  const load = useCallback(async (): Promise<{ members: Member[]; me: Me; labels: Labels }> => {
    const [members, me, labels] = await Promise.all([api.get<Member[]>(`/shops/${id}/members`), whoAmI(), words()])
    return { members, me, labels }
  }, [id])
  const { data, loading, error: loadError, reload } = useLoad(load)
  const [code, setCode] = useState<string | null>(null)
  const { busy, error, run } = useSubmit()
  if (!data) return <Screen loading={loading || !loadError} error={loadError} onRetry={reload} />
  const { members, me, labels } = data
  const manager = members.some((m) => m.user_id === me.id && m.role === 'manager')

  async function invite() {
    const made = await run(() => api.post<{ code: string }>(`/shops/${id}/members/invite`))
    if (made) setCode(made.code)
  }

  async function remove(member: Member) {
    if (!(await confirm('移除店员', `确定移除 ${member.display_name || '该店员'}？`))) return
    if (await run(async () => { await api.delete(`/shops/${id}/members/${member.user_id}`); return true })) {
      toast('已移除')
      reload()
    }
  }

  return (
    <Screen>
      <View className='card' id='members'>
        <Text className='card-title'>店员</Text>
        {members.map((m) => (
          <View key={m.user_id} className='spread item'>
            <View><Text className='line'>{m.display_name || '微信用户'}{m.user_id === me.id ? '（我）' : ''}</Text>
              <Text className='muted'>{labels.of('member_role', m.role)} · {when(m.joined_at)} 加入</Text></View>
            {manager && m.user_id !== me.id && <Button className='btn danger small' onClick={() => remove(m)}>移除</Button>}
          </View>
        ))}
      </View>
      {manager && (
        <View className='card' id='invite'>
          <Text className='card-title'>邀请店员</Text>
          <Text className='muted'>生成一次性加入码，发给店员；店员在小程序首页“加入店铺”中输入即可。</Text>
          {code && <Text className='notice ok' id='join-code'>加入码：{code}（只显示这一次）</Text>}
          {error && <Text className='error-text'>{error}</Text>}
          <Button className='btn' disabled={busy || undefined} onClick={invite}>生成加入码</Button>
        </View>
      )}
    </Screen>
  )
}
