/** Every coded value a person reads, in the words of the one label table (GET /labels). */

export type LabelTable = Record<string, Record<string, string>>

export class Labels {
  private readonly table: LabelTable

  constructor(table: LabelTable = {}) {
    this.table = table
  }

  /** The word for ``code`` of ``kind``: "—" for none; "未知" (never the raw code) when the table lacks it. */
  of(kind: string, code: string | null | undefined): string {
    if (code === null || code === undefined || code === '') return '—'
    const words = this.table[kind]
    return words && Object.prototype.hasOwnProperty.call(words, code) ? words[code] : '未知'
  }

  has(kind: string): boolean {
    return Boolean(this.table[kind])
  }
}
