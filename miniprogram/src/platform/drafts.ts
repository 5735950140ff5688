// For the type checker: the build takes drafts.weapp.ts or drafts.h5.ts by TARO_ENV.
export * from './drafts.h5'
