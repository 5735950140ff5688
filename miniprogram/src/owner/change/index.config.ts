export default definePageConfig({ navigationBarTitleText: '修改店铺信息', enablePullDownRefresh: false })
