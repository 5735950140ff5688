export default definePageConfig({ navigationBarTitleText: '开具收运联单', enablePullDownRefresh: false })
