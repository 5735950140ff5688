export default definePageConfig({ navigationBarTitleText: '登记清洗', enablePullDownRefresh: false })
