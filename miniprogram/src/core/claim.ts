/**
 * The claim code a shop's QR gives: the code itself, or a URL carrying it (`...?code=XXXX`, the address
 * registered for 扫普通链接二维码打开小程序). A mini-program opened by WeChat's own scanner receives that URL
 * in its launch query as `q` (URL-encoded).
 */

const CODE = /^[A-HJ-NP-Z2-9]{16}$/

export function normaliseCode(text: string): string {
  return text.replace(/[\s-]/g, '').toUpperCase()
}

export function isClaimCode(text: string): boolean {
  return CODE.test(normaliseCode(text))
}

function fromUrl(text: string): string | null {
  const match = /[?&]code=([^&#]+)/.exec(text)
  if (!match) return null
  let value: string
  try {
    value = decodeURIComponent(match[1])
  } catch {
    return null
  }
  return isClaimCode(value) ? normaliseCode(value) : null
}

/** The claim code in a scanned text, or null. */
export function claimCodeOf(scanned: string | null | undefined): string | null {
  if (!scanned) return null
  const text = scanned.trim()
  if (isClaimCode(text)) return normaliseCode(text)
  return fromUrl(text)
}

/** The claim code in a page's launch query (`code=` directly, or `q=` holding the scanned URL). */
export function claimCodeOfQuery(query: Record<string, string | undefined> | null | undefined): string | null {
  if (!query) return null
  if (query.code && isClaimCode(query.code)) return normaliseCode(query.code)
  if (query.q) {
    let url: string
    try {
      url = decodeURIComponent(query.q)
    } catch {
      return null
    }
    return claimCodeOf(url)
  }
  return null
}
