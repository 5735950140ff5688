// babel-preset-taro (Taro's own): React + TypeScript for webpack 5.
module.exports = {
  presets: [['taro', { framework: 'react', ts: true, compiler: 'webpack5' }]]
}
