/** No QR scanner in the browser: the claim code is typed. */
export const CAN_SCAN = false

export async function scan(): Promise<string | null> {
  return null
}
