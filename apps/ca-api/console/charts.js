// Hand-written SVG charts: no library, no build.
const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  for (const child of children) element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return element;
}

/** A round maximum for the y axis (1, 2, 5 x 10^n). */
function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

/**
 * Bars per day: `days` is [{ day: 'YYYY-MM-DD', value }]. The title and the
 * label of each bar (a <title>, shown on hover) say what it counts.
 */
export function dailyBarChart(days, { title, colorClass, valueLabel }) {
  const width = 460;
  const height = 150;
  const left = 30;
  const bottom = 22;
  const top = 8;
  const plotWidth = width - left - 8;
  const plotHeight = height - top - bottom;
  const max = niceMax(Math.max(0, ...days.map((d) => d.value)));
  const step = plotWidth / Math.max(days.length, 1);
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title, class: `chart ${colorClass}` });
  chart.append(svg('title', {}, title));
  for (const fraction of [0, 0.5, 1]) {
    const y = top + plotHeight * (1 - fraction);
    chart.append(svg('line', { x1: left, x2: width - 8, y1: y, y2: y, class: 'grid' }));
    chart.append(svg('text', { x: left - 4, y: y + 4, 'text-anchor': 'end', class: 'axis' }, String(Math.round(max * fraction))));
  }
  days.forEach((d, i) => {
    const barHeight = (d.value / max) * plotHeight;
    const bar = svg('rect', {
      x: (left + i * step + step * 0.15).toFixed(1),
      y: (top + plotHeight - barHeight).toFixed(1),
      width: Math.max(step * 0.7, 1).toFixed(1),
      height: Math.max(barHeight, d.value > 0 ? 1 : 0).toFixed(1),
      class: 'bar',
    });
    bar.append(svg('title', {}, `${d.day}: ${d.value} ${valueLabel}`));
    chart.append(bar);
    // A date label at the first day and then every 15 days.
    if (i % 15 === 0 || i === days.length - 1) {
      const anchor = i === 0 ? 'start' : i === days.length - 1 ? 'end' : 'middle';
      chart.append(svg('text', { x: left + i * step + step / 2, y: height - 6, 'text-anchor': anchor, class: 'axis' }, d.day.slice(5)));
    }
  });
  return chart;
}

/** One horizontal bar split by state, proportional to the counts. */
export function stateBar(entries) {
  const total = entries.reduce((sum, e) => sum + e.value, 0);
  const width = 720;
  const chart = svg('svg', { viewBox: `0 0 ${width} 24`, role: 'img', class: 'chart state-bar', preserveAspectRatio: 'none' });
  let x = 0;
  for (const entry of entries) {
    if (!entry.value) continue;
    const w = (entry.value / total) * width;
    const rect = svg('rect', { x: x.toFixed(1), y: 0, width: w.toFixed(1), height: 24, class: `state-${entry.state}` });
    rect.append(svg('title', {}, `${entry.label}: ${entry.value}`));
    chart.append(rect);
    x += w;
  }
  if (total === 0) chart.append(svg('rect', { x: 0, y: 0, width, height: 24, class: 'state-none' }));
  return chart;
}
