// For the type checker: the build takes media.weapp.ts or media.h5.ts by TARO_ENV.
export * from './media.weapp'
