// The selected model lives in the address: #/models/<id>.

export function openModel(id: string | null): void {
  window.location.hash = id ? `#/models/${encodeURIComponent(id)}` : '#/models'
}
