export default definePageConfig({ navigationBarTitleText: '登记店铺', enablePullDownRefresh: false })
