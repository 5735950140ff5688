/** wx.requestSubscribeMessage: only from a tap, at most 3 templates a call. */
import Taro from '@tarojs/taro'

export const CAN_SUBSCRIBE = true

export async function requestSubscribe(templateIds: string[]): Promise<Record<string, string>> {
  const ids = templateIds.slice(0, 3)
  if (!ids.length) return {}
  const answer = (await Taro.requestSubscribeMessage({ tmplIds: ids } as Taro.requestSubscribeMessage.Option)) as unknown as Record<string, string>
  const results: Record<string, string> = {}
  for (const id of ids) if (typeof answer[id] === 'string') results[id] = answer[id]
  return results
}
