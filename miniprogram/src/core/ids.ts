/** Idempotency keys: a UUID v4 per logical request, kept across its retries. */

export type RandomBytes = (n: number) => Uint8Array

export function defaultRandom(n: number): Uint8Array {
  const bytes = new Uint8Array(n)
  const crypto = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto
  if (crypto && typeof crypto.getRandomValues === 'function') return crypto.getRandomValues(bytes)
  for (let i = 0; i < n; i++) bytes[i] = Math.floor(Math.random() * 256)
  return bytes
}

export function uuid4(random: RandomBytes = defaultRandom): string {
  const b = random(16)
  b[6] = (b[6] & 0x0f) | 0x40
  b[8] = (b[8] & 0x3f) | 0x80
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
