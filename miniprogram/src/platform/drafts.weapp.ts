/** Drafts in WeChat: each record under its own storage key (setStorage allows 1 MB a key, 10 MB in
 * all), its photos copied out of the temporary files into the user data folder (200 MB), where they
 * survive the app being closed. */
import Taro from '@tarojs/taro'
import type { Draft, DraftPhoto, DraftStore } from '../core/drafts'

const INDEX = 'drafts'
const folder = () => `${(Taro as unknown as { env: { USER_DATA_PATH: string } }).env.USER_DATA_PATH}/drafts`

function ids(): string[] {
  const value = Taro.getStorageSync(INDEX)
  return Array.isArray(value) ? value : []
}

export const store: DraftStore = {
  async list() {
    return ids().map((id) => Taro.getStorageSync(`draft:${id}`)).filter(Boolean) as Draft[]
  },
  async save(draft) {
    Taro.setStorageSync(`draft:${draft.id}`, draft)
    if (!ids().includes(draft.id)) Taro.setStorageSync(INDEX, [...ids(), draft.id])
  },
  async remove(draft) {
    const fs = Taro.getFileSystemManager()
    for (const photo of draft.photos) {
      try { fs.unlinkSync(photo.path) } catch { /* already gone */ }
    }
    Taro.removeStorageSync(`draft:${draft.id}`)
    Taro.setStorageSync(INDEX, ids().filter((id) => id !== draft.id))
  }
}

export async function keep(tempPath: string, name: string): Promise<string> {
  const fs = Taro.getFileSystemManager()
  try { fs.mkdirSync(folder(), true) } catch { /* exists */ }
  const path = `${folder()}/${name}.jpg`
  fs.copyFileSync(tempPath, path)
  return path
}

export async function readable(photo: DraftPhoto): Promise<string> {
  return photo.path
}
