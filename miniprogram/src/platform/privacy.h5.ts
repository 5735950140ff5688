/** The browser has no WeChat privacy API: only the app's own consent (POST /me/privacy-consent). */
export const NATIVE_CONSENT = false

export async function needsPrivacyAuthorization(): Promise<boolean> {
  return false
}

export function onPrivacyNeeded(_open: () => void): void {}
