// For the type checker: the build takes auth.weapp.ts or auth.h5.ts by TARO_ENV.
export * from './auth.h5'
