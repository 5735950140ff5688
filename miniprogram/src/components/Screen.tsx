/** Every screen's frame: loading, error (the API's message, with 重试) and empty states in Chinese. */
import { Button, Text, View } from '@tarojs/components'
import { PropsWithChildren } from 'react'

interface Props {
  loading?: boolean
  error?: string | null
  empty?: string | false
  onRetry?: () => void
}

export default function Screen({ loading, error, empty, onRetry, children }: PropsWithChildren<Props>) {
  if (loading) return <View className='state'><Text className='muted'>加载中…</Text></View>
  if (error) {
    return (
      <View className='state'>
        <Text className='error-text'>{error}</Text>
        {onRetry && <Button className='btn ghost' onClick={onRetry}>重试</Button>}
      </View>
    )
  }
  return (
    <View className='page'>
      {children}
      {empty ? <View className='state'><Text className='muted'>{empty}</Text></View> : null}
    </View>
  )
}
