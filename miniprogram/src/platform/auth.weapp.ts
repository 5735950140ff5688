/** The login code: wx.login (the server exchanges it with WeChat's code2Session). */
import Taro from '@tarojs/taro'

export const PASSWORD_LOGIN = false

export async function loginCode(): Promise<string> {
  const answer = await Taro.login()
  if (!answer.code) throw new Error('wx.login gave no code')
  return answer.code
}
