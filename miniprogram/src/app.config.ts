// Pages by role: the main package holds the entry, login, privacy consent and 我的; the owner's,
// the collector's and the citizen's screens are sub-packages (each loaded when first opened).
export default defineAppConfig({
  pages: ['pages/index/index', 'pages/login/index', 'pages/privacy/index', 'pages/mine/index'],
  subPackages: [
    { root: 'owner', pages: ['shop/index', 'claim/index', 'register/index', 'cleaning/index', 'handover/index', 'order/index', 'change/index', 'members/index', 'join/index'] },
    { root: 'collector', pages: ['slips/index', 'start/index'] },
    { root: 'inspector', pages: ['patrol/index', 'inspect/index'] },
    { root: 'citizen', pages: ['complaint/index', 'complaints/index'] }
  ],
  window: {
    navigationBarTitleText: '餐厨智慧',
    navigationBarBackgroundColor: '#1a5fb4',
    navigationBarTextStyle: 'white',
    backgroundColor: '#f4f6f8',
    backgroundTextStyle: 'dark'
  },
  // WeChat's privacy rules: the private APIs this app calls, declared; consent asked before them.
  requiredPrivateInfos: ['getLocation', 'chooseLocation'],
  permission: { 'scope.userLocation': { desc: '用于登记店铺位置、记录投诉地点和拍照地点' } },
  __usePrivacyCheck__: true
})
