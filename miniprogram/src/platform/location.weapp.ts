/** Where the user is (GPS, WGS-84) and a point picked on WeChat's map (GCJ-02 there, converted). */
import Taro from '@tarojs/taro'
import { fromGcj02 } from '../core/coords'

export const CAN_PICK_ON_MAP = true

export async function here(): Promise<{ lat: number; lng: number }> {
  const answer = await Taro.getLocation({ type: 'wgs84' })
  return { lat: answer.latitude, lng: answer.longitude }
}

export async function pickOnMap(): Promise<{ lat: number; lng: number; address: string } | null> {
  try {
    const answer = await Taro.chooseLocation({})
    const { lat, lng } = fromGcj02(answer.latitude, answer.longitude)
    return { lat, lng, address: [answer.address, answer.name].filter(Boolean).join(' ') }
  } catch {
    return null // cancelled
  }
}
