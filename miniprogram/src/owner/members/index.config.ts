export default definePageConfig({ navigationBarTitleText: '店员', enablePullDownRefresh: true })
