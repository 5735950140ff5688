/** The network coming back (to send the drafts). */
import Taro from '@tarojs/taro'

export function onOnline(then: () => void): void {
  Taro.onNetworkStatusChange((status) => { if (status.isConnected) then() })
}
