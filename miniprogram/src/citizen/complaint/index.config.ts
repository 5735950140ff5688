export default definePageConfig({ navigationBarTitleText: '我要投诉', enablePullDownRefresh: false })
