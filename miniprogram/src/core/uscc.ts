/** 统一社会信用代码 (GB 32100-2015): 18 characters, the last a check character; checked as it is typed. */

const CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY'
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

export function checkChar(first17: string): string {
  let sum = 0
  for (let i = 0; i < 17; i++) sum += CHARSET.indexOf(first17[i]) * WEIGHTS[i]
  return CHARSET[(31 - (sum % 31)) % 31]
}

/** null when the typed text is (so far) fine; else what is wrong, in Chinese. */
export function usccProblem(typed: string, complete = true): string | null {
  const text = typed.trim().toUpperCase()
  if (!text) return complete ? '请填写统一社会信用代码' : null
  const bad = [...text].find((c) => !CHARSET.includes(c))
  if (bad) return `含有无效字符“${bad}”（不使用 I、O、Z、S、V）`
  if (text.length > 18) return '统一社会信用代码为 18 位'
  if (text.length < 18) return complete ? `还差 ${18 - text.length} 位（共 18 位）` : null
  return checkChar(text.slice(0, 17)) === text[17] ? null : '校验位不符，请核对是否输错'
}
