// For the type checker: the build takes location.weapp.ts or location.h5.ts by TARO_ENV.
export * from './location.weapp'
