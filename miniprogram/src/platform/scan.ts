// For the type checker: the build takes scan.weapp.ts or scan.h5.ts by TARO_ENV.
export * from './scan.weapp'
