/** The shop's QR: wx.scanCode (camera or album); the text it holds (a claim code or a URL carrying one). */
import Taro from '@tarojs/taro'

export const CAN_SCAN = true

export async function scan(): Promise<string | null> {
  try {
    const answer = await Taro.scanCode({ onlyFromCamera: false, scanType: ['qrCode'] })
    return answer.result || null
  } catch {
    return null // cancelled
  }
}
