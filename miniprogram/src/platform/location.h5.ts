/** Where the user is: the browser's geolocation (WGS-84).  No map picker offline: coordinates come
 * from GPS or are typed. */
import Taro from '@tarojs/taro'

export const CAN_PICK_ON_MAP = false

export async function here(): Promise<{ lat: number; lng: number }> {
  const answer = await Taro.getLocation({ type: 'wgs84' })
  return { lat: answer.latitude, lng: answer.longitude }
}

export async function pickOnMap(): Promise<{ lat: number; lng: number; address: string } | null> {
  return null
}
