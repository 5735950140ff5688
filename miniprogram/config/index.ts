/**
 * Build configuration.  The API base comes from the build's environment, never from code:
 *   MP_API_BASE=https://canchu.jining.gov.cn/api/v1 npm run build:weapp
 * WeChat only talks to registered HTTPS domains, so the weapp build refuses an http:// base or an IP
 * address; the H5 build is served by the app itself at /m/ and calls /api/v1 on the same origin.
 * MP_DEV_LOGIN=1 lets the H5 build log in with dev codes (dev-<name>; the server must be in development).
 */
import { defineConfig } from '@tarojs/cli'

const target = process.env.TARO_ENV
const PLACEHOLDER = 'https://canchu.example.gov.cn/api/v1'

function apiBase(): string {
  if (target === 'h5') return process.env.MP_API_BASE || '/api/v1'
  const base = process.env.MP_API_BASE || PLACEHOLDER
  const host = base.replace(/^https:\/\//, '').split(/[/:]/)[0]
  if (!base.startsWith('https://') || /^\d+(\.\d+){3}$/.test(host) || host === 'localhost') {
    throw new Error(`MP_API_BASE must be an https:// address with a registered domain name (not ${base})`)
  }
  return base
}

export default defineConfig({
  projectName: 'canchu-miniprogram',
  date: '2026-12-07',
  designWidth: 750,
  deviceRatio: { 640: 2.34 / 2, 750: 1, 375: 2, 828: 1.81 / 2 },
  sourceRoot: 'src',
  outputRoot: process.env.MP_OUTPUT || `dist/${target}`,  // MP_OUTPUT: the tests build elsewhere
  framework: 'react',
  compiler: 'webpack5',
  defineConstants: {
    API_BASE: JSON.stringify(apiBase()),
    DEV_LOGIN: JSON.stringify(process.env.MP_DEV_LOGIN === '1'),
    PRIVACY_VERSION: JSON.stringify('2026-12-01')
  },
  copy: { patterns: [], options: {} },
  mini: {
    postcss: { pxtransform: { enable: true, config: {} }, cssModules: { enable: false } },
    optimizeMainPackage: { enable: true }
  },
  h5: {
    publicPath: '/m/',
    staticDirectory: 'static',
    router: { mode: 'hash' },
    postcss: { autoprefixer: { enable: true }, cssModules: { enable: false } }
  }
})
