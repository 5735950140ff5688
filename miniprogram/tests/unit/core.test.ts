import { describe, expect, it } from 'vitest'
import { claimCodeOf, claimCodeOfQuery } from '../../src/core/claim'
import { uuid4 } from '../../src/core/ids'
import { Labels } from '../../src/core/labels'
import { Compliance, Handover, Rectification, Shop, daysUntil, gradeView, nextSteps, slipView, templatesFor, when, nowInJining } from '../../src/core/models'
import { checkChar, usccProblem } from '../../src/core/uscc'

const labels = new Labels({ grade: { A: 'A 级', B: 'B 级', C: 'C 级' }, handover_status: { pending: '待确认', confirmed: '已确认' },
                            waste_type: { kitchen_waste: '餐厨垃圾' } })

function compliance(changes: Partial<Compliance> = {}): Compliance {
  return { as_of: '2026-12-07', active: true, grade: 'A', reasons: [], priority: 0,
           purifier: { status: 'ok', last_cleaned_on: '2026-11-20', due_on: '2027-02-18' },
           waste: { status: 'ok', last_handover_at: '2026-12-06T18:00:00+08:00' }, rectification: { open: 0, overdue: 0 }, ...changes }
}

function shop(c: Compliance): Shop {
  return { id: 1, name: '老王烧烤', uscc: '', address: '', district_code: '370811', lat: 35.4, lng: 116.5, cooking_heads: 3,
           status: 'active', claimed: true, compliance: c }
}

describe('view models', () => {
  it('a shop with nothing to do has no steps; problems come most pressing first', () => {
    expect(nextSteps(shop(compliance()), [], '2026-12-07')).toEqual([])
    const orders: Rectification[] = [
      { id: 5, shop_id: 1, status: 'open', items: ['P3'], deadline: '2026-12-09', created_at: '' },
      { id: 4, shop_id: 1, status: 'open', overdue: true, items: ['W2'], deadline: '2026-12-01', created_at: '' },
      { id: 3, shop_id: 1, status: 'submitted', items: ['O1'], deadline: '2026-11-20', created_at: '' }]
    const c = compliance({ grade: 'C', purifier: { status: 'overdue', last_cleaned_on: '2026-08-01', due_on: '2026-10-30' },
                           waste: { status: 'no_contract', last_handover_at: null } })
    const steps = nextSteps(shop(c), orders, '2026-12-07')
    expect(steps.map((s) => s.kind)).toEqual(['order', 'order', 'cleaning', 'contract'])
    expect(steps[0].text).toContain('已逾期')
    expect(steps[0].target).toBe(4)
    expect(steps[1].text).toBe('请在 2026-12-09 前完成整改并答复（还剩 2 天）')
    expect(steps[1].urgent).toBe(true)
    expect(steps[2].text).toContain('2026-10-30')
  })

  it('grades read as words with the reasons the server gave', () => {
    const c = compliance({ grade: 'B', reasons: [{ code: 'purifier_due_soon', message: '净化设施将于 2026-12-10 到期清洗' }] })
    expect(gradeView(c, labels)).toEqual({ letter: 'B', text: 'B 级', tone: 'warn', reasons: ['净化设施将于 2026-12-10 到期清洗'] })
    expect(gradeView(compliance({ active: false, grade: null }), labels).text).toBe('不参与评级')
  })

  it('a slip reads in words, never a code', () => {
    const slip: Handover = { id: 1, serial: 'JN2026120700001', shop_id: 1, status: 'pending', waste_type: 'kitchen_waste',
                             handed_over_at: '2026-12-07T18:30:00+08:00', declared_kg: 12.5, weighed_kg: null, bins: 2,
                             collector_company_id: 3 }
    expect(slipView(slip, labels)).toEqual({ title: '餐厨垃圾 · JN2026120700001', status: '待确认', tone: 'warn',
                                             time: '2026-12-07 18:30', amount: '申报 12.5 kg · 2 桶' })
    expect(labels.of('handover_status', 'bogus')).toBe('未知')
    expect(labels.of('handover_status', null)).toBe('—')
  })

  it('dates', () => {
    expect(when('2026-12-07T09:30:00+08:00')).toBe('2026-12-07 09:30')
    expect(when(null)).toBe('—')
    expect(daysUntil('2026-12-09', '2026-12-07')).toBe(2)
    expect(daysUntil('2026-11-30', '2026-12-07')).toBe(-7)
    expect(daysUntil('2027-01-01', '2026-12-31')).toBe(1)
    expect(nowInJining(Date.UTC(2026, 11, 7, 16, 30, 5))).toBe('2026-12-08T00:30:05+08:00') // past midnight there
  })
})

describe('the credit code, checked as typed', () => {
  it('accepts a valid one and names the problem of others', () => {
    const first17 = '91370800MA3C0000' + '1'
    const good = first17 + checkChar(first17)
    expect(usccProblem(good)).toBeNull()
    expect(usccProblem(good.toLowerCase())).toBeNull()
    expect(usccProblem('9137', false)).toBeNull() // still typing
    expect(usccProblem('9137')).toBe('还差 14 位（共 18 位）')
    expect(usccProblem('9137O')).toContain('无效字符“O”')
    const wrong = first17 + (checkChar(first17) === '0' ? '1' : '0')
    expect(usccProblem(wrong)).toBe('校验位不符，请核对是否输错')
  })
})

describe('claim codes from a scan or a launch', () => {
  const code = 'ABCDEFGHJKLMNPQR'
  it('reads the code itself or a URL carrying it', () => {
    expect(claimCodeOf(code)).toBe(code)
    expect(claimCodeOf('abcd-efgh-jklm-npqr')).toBe(code)
    expect(claimCodeOf(`https://jn-cg.example.cn/mp/claim?code=${code}`)).toBe(code)
    expect(claimCodeOf('https://jn-cg.example.cn/mp/claim?code=NOPE')).toBeNull()
    expect(claimCodeOf('随便一段文字')).toBeNull()
  })
  it("reads WeChat's launch query (扫普通链接二维码打开小程序)", () => {
    const q = encodeURIComponent(`https://jn-cg.example.cn/mp/claim?code=${code}`)
    expect(claimCodeOfQuery({ q })).toBe(code)
    expect(claimCodeOfQuery({ code })).toBe(code)
    expect(claimCodeOfQuery({ q: '%E0%A4%A' })).toBeNull()
    expect(claimCodeOfQuery({})).toBeNull()
  })
})

describe('idempotency keys', () => {
  it('are version-4 UUIDs, a new one each time', () => {
    const a = uuid4(), b = uuid4()
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(a).not.toBe(b)
  })
})

describe('subscribe templates', () => {
  const all = ['case_assigned', 'cleaning_due', 'handover_to_confirm', 'rectification_deadline']
    .map((kind) => ({ kind, template_id: `T-${kind}`, long_term: false }))
  it("asks for the user's role's reminders, three at most", () => {
    expect(templatesFor('user', all).map((t) => t.kind)).toEqual(['cleaning_due', 'handover_to_confirm', 'rectification_deadline'])
    expect(templatesFor('collector', all).map((t) => t.kind)).toEqual(['handover_to_confirm'])
    expect(templatesFor('inspector', all).map((t) => t.kind)).toEqual(['case_assigned', 'rectification_deadline'])
    expect(templatesFor('user', []).length).toBe(0)
  })
})
