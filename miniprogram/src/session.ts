/** The signed-in user of this device: the token (kept on the device), who they are (GET /me), the
 * label table, and the one API client every page uses.  Logging in again on 401 is the client's. */
import { Api, Session } from './core/api'
import { ApiError } from './core/errors'
import { LabelTable, Labels } from './core/labels'
import { Me, nowInJining } from './core/models'
import { Item, UploadQueue } from './core/uploads'
import { loginCode } from './platform/auth'
import { load, save } from './platform/storage'
import { transport, uploadPhoto } from './platform/transport'

interface LoginAnswer {
  token: string
  user: Me
}

let me: Me | null = null
let labels: Labels | null = null

class DeviceSession implements Session {
  token(): string | null {
    return load('token')
  }

  async renew(): Promise<string> {
    const code = await loginCode() // H5 without a dev name: no code → the login page
    const answer = await api.post<LoginAnswer>('/auth/wechat-login', { code }, { anonymous: true })
    save('token', answer.token)
    me = answer.user
    return answer.token
  }
}

export const session = new DeviceSession()
export const api = new Api({ base: API_BASE, transport, session })

/** Who is signed in (logging in first when there is no token); throws when a login page is needed. */
export async function whoAmI(fresh = false): Promise<Me> {
  if (!session.token()) await session.renew()
  if (!me || fresh) me = await api.get<Me>('/me')
  return me
}

export function forget(): void {
  save('token', null)
  me = null
}

export async function passwordLogin(username: string, password: string): Promise<Me> {
  const answer = await api.post<LoginAnswer>('/auth/password-login', { username, password }, { anonymous: true })
  save('token', answer.token)
  me = answer.user
  return whoAmI(true)
}

export async function logout(): Promise<void> {
  try {
    await api.post('/auth/logout')
  } catch (error) {
    if (!(error instanceof ApiError)) throw error
  } finally {
    forget()
  }
}

export async function words(): Promise<Labels> {
  if (!labels) labels = new Labels(await api.get<LabelTable>('/labels'))
  return labels
}

export function photoQueue(onChange: (items: Item[]) => void): UploadQueue {
  return new UploadQueue((photo, key, progress) => uploadPhoto(`${API_BASE}/photos`, session.token(), photo, key, progress),
                         { onChange })
}

/** Today in Jining (YYYY-MM-DD), for deadlines. */
export function today(): string {
  return nowInJining().slice(0, 10)
}
