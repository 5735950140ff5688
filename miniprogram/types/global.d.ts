/// <reference types="@tarojs/taro" />

declare module '*.png'
declare module '*.scss'

declare const API_BASE: string
declare const DEV_LOGIN: boolean
declare const PRIVACY_VERSION: string

declare namespace NodeJS {
  interface ProcessEnv {
    TARO_ENV: 'weapp' | 'h5'
  }
}
