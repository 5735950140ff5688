/** WeChat's map picker answers in GCJ-02; the API stores WGS-84 (as GPS gives it). */
import gcoord from 'gcoord'

export function fromGcj02(lat: number, lng: number): { lat: number; lng: number } {
  const [wgsLng, wgsLat] = gcoord.transform([lng, lat], gcoord.GCJ02, gcoord.WGS84) as [number, number]
  return { lat: Math.round(wgsLat * 1e6) / 1e6, lng: Math.round(wgsLng * 1e6) / 1e6 }
}
