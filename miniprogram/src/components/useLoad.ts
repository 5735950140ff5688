/** A screen's data: loaded on show, again on pull-down, with its loading and error state. */
import { useDidShow, usePullDownRefresh } from '@tarojs/taro'
import { useCallback, useState } from 'react'
import { messageOf } from '../core/errors'
import { stopPullDown } from '../platform/ui'

export function useLoad<T>(load: () => Promise<T>) {
  const [data, setData] = useState<T | null>(null)
  const [loading, setLoading] = useState(true)
  const [error, setError] = useState<string | null>(null)
  const reload = useCallback(async () => {
    setError(null)
    try {
      setData(await load())
    } catch (failure) {
      setError(messageOf(failure))
    } finally {
      setLoading(false)
      stopPullDown()
    }
  }, [load])
  useDidShow(() => { reload() })
  usePullDownRefresh(() => { reload() })
  return { data, loading: loading && data === null, error, reload, setData }
}
