// For the type checker: the build takes privacy.weapp.ts or privacy.h5.ts by TARO_ENV.
export * from './privacy.weapp'
