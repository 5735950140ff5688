/** The browser cannot receive WeChat subscribe messages: the switches say so. */
export const CAN_SUBSCRIBE = false

export async function requestSubscribe(_templateIds: string[]): Promise<Record<string, string>> {
  return {}
}
