export default definePageConfig({ navigationBarTitleText: '认领店铺', enablePullDownRefresh: false })
