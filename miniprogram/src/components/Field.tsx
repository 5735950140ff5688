/** A labelled input with its error beside it (the API's field message). */
import { Input, Text, Textarea, View } from '@tarojs/components'

interface Props {
  label: string
  name: string
  value: string
  onInput: (value: string) => void
  error?: string
  hint?: string
  placeholder?: string
  type?: 'text' | 'number' | 'digit' | 'idcard'
  multiline?: boolean
  maxlength?: number
}

export default function Field({ label, name, value, onInput, error, hint, placeholder, type = 'text', multiline, maxlength }: Props) {
  return (
    <View className='field'>
      <Text className='label'>{label}</Text>
      {multiline
        ? <Textarea className='textarea' name={name} value={value} placeholder={placeholder} maxlength={maxlength ?? 1000}
                    onInput={(e) => onInput(e.detail.value)} />
        : <Input className='input' name={name} type={type} value={value} placeholder={placeholder} maxlength={maxlength ?? 200}
                 onInput={(e) => onInput(e.detail.value)} />}
      {error ? <Text className='field-error'>{error}</Text> : hint ? <Text className='hint'>{hint}</Text> : null}
    </View>
  )
}
