export default definePageConfig({ navigationBarTitleText: '餐厨智慧', enablePullDownRefresh: true })
