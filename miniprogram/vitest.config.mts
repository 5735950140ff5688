import { defineConfig } from 'vitest/config'

// Unit tests of src/core only: plain TypeScript, no Taro, run on Node.
export default defineConfig({ test: { include: ['tests/unit/**/*.test.ts'], environment: 'node' } })
