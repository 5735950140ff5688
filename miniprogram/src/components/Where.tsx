/** A place: the phone's GPS, WeChat's map picker (converted to WGS-84), or coordinates typed. */
import { Button, Text, View } from '@tarojs/components'
import { messageOf } from '../core/errors'
import { CAN_PICK_ON_MAP, here, pickOnMap } from '../platform/location'
import Field from './Field'

export interface Place {
  lat: string
  lng: string
  address?: string
}

interface Props {
  value: Place
  onChange: (place: Place) => void
  error?: string
  onError: (message: string) => void
}

export default function Where({ value, onChange, error, onError }: Props) {
  async function gps() {
    try {
      const point = await here()
      onChange({ ...value, lat: point.lat.toFixed(6), lng: point.lng.toFixed(6) })
    } catch (failure) {
      onError(failure instanceof Error && /auth|deny|permission/i.test(failure.message) ? '未获得定位权限，请在设置中允许或手动填写坐标' : messageOf(failure))
    }
  }

  async function map() {
    const picked = await pickOnMap()
    if (picked) onChange({ lat: picked.lat.toFixed(6), lng: picked.lng.toFixed(6), address: picked.address || value.address })
  }

  return (
    <View className='field'>
      <Text className='label'>位置</Text>
      <View className='row'>
        <Button className='btn ghost small' id='use-gps' onClick={gps}>使用当前位置</Button>
        {CAN_PICK_ON_MAP && <Button className='btn ghost small' onClick={map}>在地图上选</Button>}
      </View>
      <View className='row'>
        <View style={{ flex: 1 }}><Field label='纬度' name='lat' type='digit' value={value.lat} onInput={(lat) => onChange({ ...value, lat })} /></View>
        <View style={{ flex: 1 }}><Field label='经度' name='lng' type='digit' value={value.lng} onInput={(lng) => onChange({ ...value, lng })} /></View>
      </View>
      {error && <Text className='field-error'>{error}</Text>}
    </View>
  )
}
