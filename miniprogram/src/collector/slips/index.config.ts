export default definePageConfig({ navigationBarTitleText: '待确认联单', enablePullDownRefresh: true })
