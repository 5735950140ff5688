/** A form's submission: one at a time, the API's message on the form and each field's beside it. */
import { useState } from 'react'
import { ApiError, messageOf } from '../core/errors'

export function useSubmit() {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [fields, setFields] = useState<Record<string, string[]>>({})

  async function run<T>(action: () => Promise<T>): Promise<T | null> {
    if (busy) return null
    setBusy(true)
    setError(null)
    setFields({})
    try {
      return await action()
    } catch (failure) {
      setError(messageOf(failure))
      if (failure instanceof ApiError) setFields(failure.fields)
      return null
    } finally {
      setBusy(false)
    }
  }

  const field = (name: string) => (fields[name] ? fields[name].join('；') : undefined)
  return { busy, error, field, run, setError }
}
