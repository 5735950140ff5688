/** The login token and small preferences, kept on the device. */
import Taro from '@tarojs/taro'

export function load(key: string): string | null {
  const value = Taro.getStorageSync(key)
  return typeof value === 'string' && value ? value : null
}

export function save(key: string, value: string | null): void {
  if (value === null) Taro.removeStorageSync(key)
  else Taro.setStorageSync(key, value)
}
