/** The contract's resources (API.md) and what the screens show of them: words from the label table,
 * dates as a person reads them, and for a shop what to do next, first. */
import { Labels } from './labels'

export interface Me {
  id: number
  role: string
  display_name: string | null
  jurisdiction: string[] | null
  collector_company_id: number | null
  shop_ids: number[]
  privacy_accepted_version: string | null
}

export interface Reason {
  code: string
  message: string
}

export interface Compliance {
  as_of: string
  active: boolean
  purifier: { status: string; last_cleaned_on: string | null; due_on: string | null }
  waste: { status: string; last_handover_at: string | null }
  rectification: { open: number; overdue: number }
  grade: 'A' | 'B' | 'C' | null
  reasons: Reason[]
  priority: number
}

export interface Shop {
  id: number
  name: string
  uscc: string
  address: string
  district_code: string
  lat: number
  lng: number
  cooking_heads: number
  status: string
  claimed: boolean
  compliance: Compliance
  warnings?: { code: string; message: string }[]
}

export interface Photo {
  id: number
  url: string
  thumb_url: string
  reused: boolean
}

export interface Handover {
  id: number
  serial: string
  shop_id: number
  status: string
  waste_type: string
  handed_over_at: string
  declared_kg: number | null
  weighed_kg: number | null
  bins: number | null
  collector_company_id: number
  started_by_party?: string
  reject_reason?: string | null
}

export interface Rectification {
  id: number
  shop_id: number
  status: string
  overdue?: boolean
  items: string[]
  deadline: string
  created_at: string
}

export interface Complaint {
  id: number
  status: string
  category: string
  description: string
  district_code: string
  shop_id: number | null
  nearby_shops?: { id: number; name: string; distance_m: number }[]
  possible_duplicate_of?: number | null
  reply?: string | null
  created_at: string
}

export interface Notification {
  id: number
  kind: string
  title: string
  body: string
  object_type: string | null
  object_id: number | null
  created_at: string
  read_at: string | null
  wechat: string
}

/** "2026-12-07 09:30" from the API's ISO time with its +08:00 offset (already Jining's wall clock). */
export function when(iso: string | null | undefined): string {
  if (!iso) return '—'
  return iso.slice(0, 16).replace('T', ' ')
}

/** Whole days from ``today`` to ``date`` (both YYYY-MM-DD); negative once past. */
export function daysUntil(date: string, today: string): number {
  const day = (text: string) => Date.UTC(Number(text.slice(0, 4)), Number(text.slice(5, 7)) - 1, Number(text.slice(8, 10)))
  return Math.round((day(date) - day(today)) / 86_400_000)
}

export type Tone = 'good' | 'warn' | 'bad' | 'none'

export interface GradeView {
  letter: string
  text: string
  tone: Tone
  reasons: string[]
}

export function gradeView(compliance: Compliance, labels: Labels): GradeView {
  if (!compliance.active || !compliance.grade) {
    return { letter: '—', text: '不参与评级', tone: 'none', reasons: compliance.reasons.map((r) => r.message) }
  }
  const tone: Tone = compliance.grade === 'A' ? 'good' : compliance.grade === 'B' ? 'warn' : 'bad'
  return { letter: compliance.grade, text: labels.of('grade', compliance.grade), tone, reasons: compliance.reasons.map((r) => r.message) }
}

export interface Step {
  kind: 'order' | 'cleaning' | 'contract' | 'handover'
  text: string
  urgent: boolean
  target?: number
}

/** What the owner should do next, the most pressing first: overdue orders, open orders by deadline,
 * the purifier's cleaning, the collection contract, the slips. */
export function nextSteps(shop: Shop, orders: Rectification[], today: string): Step[] {
  const steps: Step[] = []
  const c = shop.compliance
  const open = orders.filter((o) => o.status === 'open')
    .sort((a, b) => a.deadline.localeCompare(b.deadline))
  for (const order of open) {
    const left = daysUntil(order.deadline, today)
    steps.push(left < 0 || order.overdue
      ? { kind: 'order', text: `整改通知已逾期（期限 ${order.deadline}），请尽快整改并上传照片答复`, urgent: true, target: order.id }
      : { kind: 'order', text: `请在 ${order.deadline} 前完成整改并答复（还剩 ${left} 天）`, urgent: left <= 2, target: order.id })
  }
  const purifier = c.purifier
  if (purifier.status === 'overdue') {
    steps.push({ kind: 'cleaning', text: `净化设施清洗已逾期（应于 ${purifier.due_on} 前），请清洗后登记`, urgent: true })
  } else if (purifier.status === 'never_cleaned') {
    steps.push({ kind: 'cleaning', text: '尚未登记过净化设施清洗，请清洗后拍照登记', urgent: true })
  } else if (purifier.status === 'due_soon') {
    steps.push({ kind: 'cleaning', text: `请在 ${purifier.due_on} 前清洗净化设施并登记`, urgent: false })
  }
  if (c.waste.status === 'no_contract' || c.waste.status === 'contract_expired') {
    steps.push({ kind: 'contract', text: '请与有资质的收运单位签订（续签）餐厨垃圾收运合同', urgent: true })
  } else if (c.waste.status === 'overdue') {
    steps.push({ kind: 'handover', text: '餐厨垃圾收运已逾期，请交收运单位并开具联单', urgent: true })
  }
  return steps
}

export interface SlipView {
  title: string
  status: string
  tone: Tone
  time: string
  amount: string
}

export function slipView(slip: Handover, labels: Labels): SlipView {
  const parts = []
  if (slip.declared_kg !== null && slip.declared_kg !== undefined) parts.push(`申报 ${slip.declared_kg} kg`)
  if (slip.weighed_kg !== null && slip.weighed_kg !== undefined) parts.push(`称重 ${slip.weighed_kg} kg`)
  if (slip.bins) parts.push(`${slip.bins} 桶`)
  const tone: Tone = slip.status === 'confirmed' ? 'good' : slip.status === 'pending' ? 'warn' : 'bad'
  return {
    title: `${labels.of('waste_type', slip.waste_type)} · ${slip.serial}`,
    status: labels.of('handover_status', slip.status),
    tone,
    time: when(slip.handed_over_at),
    amount: parts.join(' · ') || '—'
  }
}

export function unreadCount(items: Notification[]): number {
  return items.filter((n) => !n.read_at).length
}

export type { Page } from './api'

export interface Template {
  kind: string
  template_id: string
  long_term: boolean
}

/** The kinds of reminder a role receives (who each notification goes to: see the server's reminders). */
const KINDS_BY_ROLE: Record<string, string[]> = {
  user: ['cleaning_due', 'rectification_deadline', 'handover_to_confirm'],
  collector: ['handover_to_confirm'],
  collector_manager: ['handover_to_confirm'],
  inspector: ['case_assigned', 'rectification_deadline'],
  regulator: ['case_assigned'],
  admin: ['case_assigned']
}

/** The templates one tap asks for (WeChat takes at most 3 a call): those of the user's role. */
export function templatesFor(role: string, templates: Template[]): Template[] {
  const kinds = KINDS_BY_ROLE[role] || KINDS_BY_ROLE.user
  return templates.filter((t) => kinds.includes(t.kind)).slice(0, 3)
}

/** Now on Jining's wall clock as the API writes times: ``2026-12-07T18:30:05+08:00``. */
export function nowInJining(at: number = Date.now()): string {
  return new Date(at + 8 * 3600 * 1000).toISOString().slice(0, 19) + '+08:00'
}
