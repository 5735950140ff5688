/** The login code in the browser: H5 has no wx.login.  A development build (MP_DEV_LOGIN=1, server in
 * development) logs in as dev-<name>, the name typed on the login page; otherwise staff use their
 * console username and password (POST /auth/password-login). */
import Taro from '@tarojs/taro'

export const PASSWORD_LOGIN = !DEV_LOGIN
const KEY = 'dev-login-name'

export function rememberDevName(name: string): void {
  Taro.setStorageSync(KEY, name)
}

export async function loginCode(): Promise<string> {
  const name = DEV_LOGIN ? Taro.getStorageSync(KEY) : ''
  if (!name) throw new Error('needs a login on the login page')
  return `dev-${name}`
}
