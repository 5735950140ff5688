// For the type checker: the build takes subscribe.weapp.ts or subscribe.h5.ts by TARO_ENV.
export * from './subscribe.weapp'
