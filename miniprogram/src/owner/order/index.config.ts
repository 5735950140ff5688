export default definePageConfig({ navigationBarTitleText: '整改答复', enablePullDownRefresh: false })
