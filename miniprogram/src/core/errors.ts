/** The API's error shape, mapped to what a person reads: the server's Chinese message, never a code or a stack. */

export interface ErrorBody {
  error?: { code?: string; message?: string; fields?: Record<string, string[]> }
}

const BY_STATUS: Record<number, string> = {
  0: '网络连接失败，请检查网络后重试',
  400: '请求有误，请检查后重试',
  401: '登录已失效，请重新登录',
  403: '没有权限进行此操作',
  404: '内容不存在或已删除',
  409: '操作冲突，请刷新后重试',
  413: '文件过大',
  415: '不支持的文件类型',
  422: '提交的数据有误',
  429: '操作太频繁，请稍后再试',
  500: '服务器出错了，请稍后再试',
  502: '服务暂时不可用，请稍后再试',
  503: '服务暂时不可用，请稍后再试',
  504: '服务响应超时，请稍后再试',
  507: '服务器存储空间不足，请联系管理员'
}

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly fields: Record<string, string[]>

  constructor(status: number, code: string, message: string, fields: Record<string, string[]> = {}) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.fields = fields
  }

  /** The first message of a field (for the form beside it), or undefined. */
  field(name: string): string | undefined {
    const messages = this.fields[name]
    return messages && messages.length ? messages[0] : undefined
  }
}

/** An error answer (status + parsed body, which may be anything) as an ApiError. */
export function fromResponse(status: number, body: unknown): ApiError {
  const error = (body && typeof body === 'object' ? (body as ErrorBody).error : undefined) || {}
  const fallback = BY_STATUS[status] || (status >= 500 ? BY_STATUS[500] : '请求失败，请稍后再试')
  const message = typeof error.message === 'string' && error.message.trim() ? error.message : fallback
  const code = typeof error.code === 'string' ? error.code : `http_${status}`
  const fields = error.fields && typeof error.fields === 'object' ? error.fields : {}
  return new ApiError(status, code, message, fields)
}

export function networkError(): ApiError {
  return new ApiError(0, 'network', BY_STATUS[0])
}

/** What to show for any thrown value: an ApiError's message, else a neutral sentence (never a stack). */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message
  return '出错了，请稍后再试'
}
