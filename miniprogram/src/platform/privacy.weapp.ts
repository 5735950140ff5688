/** WeChat's privacy rules (base library ≥ 2.32.3): before any private API, the user agrees on a page of
 * ours with a button of open-type "agreePrivacyAuthorization". */
import Taro from '@tarojs/taro'

export const NATIVE_CONSENT = true

export function needsPrivacyAuthorization(): Promise<boolean> {
  return new Promise((resolve) => {
    const wx = Taro as unknown as { getPrivacySetting?: (o: { success: (r: { needAuthorization: boolean }) => void; fail: () => void }) => void }
    if (typeof wx.getPrivacySetting !== 'function') return resolve(false)
    wx.getPrivacySetting({ success: (r) => resolve(r.needAuthorization), fail: () => resolve(false) })
  })
}

/** Where WeChat asks (a private API called before consent): open the consent page. */
export function onPrivacyNeeded(open: () => void): void {
  const wx = Taro as unknown as { onNeedPrivacyAuthorization?: (f: (resolve: (r: { event: string }) => void) => void) => void }
  if (typeof wx.onNeedPrivacyAuthorization === 'function') wx.onNeedPrivacyAuthorization(() => open())
}
