'use strict'
// A small SVG chart of latency distributions: one panel per figure, one
// cumulative-distribution line per system, milliseconds on a log scale.

const COLORS = { native: '#d9480f', 'native-polling': '#f59f00', legacy: '#1c7ed6', 'mongodb-lock': '#5c940d' }
const W = 460
const H = 300
const M = { left: 52, right: 16, top: 34, bottom: 44 }

function esc (s) {
  return String(s).replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c])
}

function panel (title, bySystem, labels, x0) {
  const all = Object.values(bySystem).flat().filter((v) => v > 0)
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...all))))
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...all))))
  const px = (v) => x0 + M.left + (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) * (W - M.left - M.right)
  const py = (q) => M.top + (1 - q) * (H - M.top - M.bottom)
  const out = [`<text x="${x0 + W / 2}" y="20" text-anchor="middle" font-weight="bold">${esc(title)}</text>`]
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    out.push(`<line x1="${px(d)}" y1="${py(0)}" x2="${px(d)}" y2="${py(1)}" stroke="#ddd"/>`)
    out.push(`<text x="${px(d)}" y="${py(0) + 16}" text-anchor="middle" font-size="11">${d >= 1 ? d : d.toPrecision(1)} ms</text>`)
  }
  for (const q of [0, 0.5, 0.99, 1]) {
    out.push(`<line x1="${px(lo)}" y1="${py(q)}" x2="${px(hi)}" y2="${py(q)}" stroke="${q === 0.5 || q === 0.99 ? '#bbb' : '#ddd'}" stroke-dasharray="${q === 0.5 || q === 0.99 ? '4 3' : ''}"/>`)
    if (q !== 1) out.push(`<text x="${x0 + M.left - 6}" y="${py(q) + 4}" text-anchor="end" font-size="11">${q === 0.99 ? 'p99' : q === 0.5 ? 'p50' : q}</text>`)
  }
  out.push(`<text x="${x0 + W / 2}" y="${H - 8}" text-anchor="middle" font-size="11">latency (log scale); y: fraction of calls at most that fast</text>`)
  for (const [system, values] of Object.entries(bySystem)) {
    const sorted = [...values].sort((a, b) => a - b)
    const points = sorted.map((v, i) => `${px(v).toFixed(1)},${py((i + 1) / sorted.length).toFixed(1)}`)
    out.push(`<polyline fill="none" stroke="${COLORS[system]}" stroke-width="2" points="${px(sorted[0]).toFixed(1)},${py(0)} ${points.join(' ')}"/>`)
  }
  return out.join('\n')
}

/** panels: [{ title, bySystem: { system: [ms...] } }] */
function renderSvg (panels, labels, caption) {
  const width = W * panels.length
  let x = 16
  const legend = Object.keys(COLORS).filter((s) => panels.some((p) => p.bySystem[s])).map((s) => {
    const entry = `<rect x="${x}" y="${H + 6}" width="14" height="4" fill="${COLORS[s]}"/><text x="${x + 20}" y="${H + 12}" font-size="12">${esc(labels[s])}</text>`
    x += 20 + labels[s].length * 7 + 24 // about 7 px a character at 12 px
    return entry
  })
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H + 44}" viewBox="0 0 ${width} ${H + 44}" font-family="sans-serif" font-size="12">`,
    '<rect width="100%" height="100%" fill="white"/>',
    ...panels.map((p, i) => panel(p.title, p.bySystem, labels, i * W)),
    ...legend,
    `<text x="16" y="${H + 36}" font-size="11" fill="#555">${esc(caption)}</text>`,
    '</svg>'
  ].join('\n')
}

module.exports = { renderSvg }
