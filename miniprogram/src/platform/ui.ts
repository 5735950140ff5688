/** Toasts, confirmations and navigation: the pages' only way to the platform's UI. */
import Taro from '@tarojs/taro'

export function toast(title: string, icon: 'success' | 'none' = 'none'): void {
  Taro.showToast({ title, icon, duration: 2000 })
}

export async function confirm(title: string, content: string): Promise<boolean> {
  const answer = await Taro.showModal({ title, content, confirmText: '确定', cancelText: '取消' })
  return answer.confirm
}

export function go(url: string): void {
  Taro.navigateTo({ url })
}

export function replace(url: string): void {
  Taro.redirectTo({ url })
}

export function back(): void {
  Taro.navigateBack()
}

export function home(url: string): void {
  Taro.reLaunch({ url })
}

export function stopPullDown(): void {
  Taro.stopPullDownRefresh()
}
