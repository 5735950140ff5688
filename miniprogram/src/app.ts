import { PropsWithChildren } from 'react'
import { onPrivacyNeeded } from './platform/privacy'
import { go } from './platform/ui'
import './app.css'

// A private API called before consent: WeChat asks, our consent page answers.
onPrivacyNeeded(() => go('/pages/privacy/index'))

function App({ children }: PropsWithChildren) {
  return children
}

export default App
