export default definePageConfig({ navigationBarTitleText: '一店三查', enablePullDownRefresh: false })
