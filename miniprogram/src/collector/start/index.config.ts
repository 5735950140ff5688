export default definePageConfig({ navigationBarTitleText: '开具联单', enablePullDownRefresh: false })
