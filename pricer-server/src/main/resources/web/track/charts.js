// Metric charts with uPlot: one chart per key, one line per run (and per resumed segment) in the run's colour.
// Drag selects a step range and re-queries the server for it (so zooming sharpens the detail); double-click
// goes back to the whole history. Downsampled buckets draw their min..max as a faint band.
'use strict';

const STANDARD_KEYS = ['train/loss', 'eval/loss', 'train/learning_rate', 'train/grad_norm'];
window.pricerCharts = {};

// Time-weighted exponential moving average, debiased, as Weights & Biases draws it: the decay between two
// points grows with the x distance between them, so uneven logging does not skew the curve.
function smoothTimeWeighted(xs, ys, weight) {
  const out = new Array(ys.length).fill(null);
  const finite = xs.filter((x, i) => x != null && ys[i] != null);
  if (weight <= 0 || finite.length === 0) return ys.slice();
  const range = (finite[finite.length - 1] - finite[0]) || 1;
  const w = Math.min(Math.sqrt(weight), 0.999);
  let acc = 0, debias = 0, prevX = null;
  for (let i = 0; i < ys.length; i++) {
    const x = xs[i], y = ys[i];
    if (x == null || y == null || !isFinite(y)) continue;
    const decay = prevX == null ? 0 : Math.pow(w, ((x - prevX) / range) * 1000);
    acc = acc * decay + y;
    debias = debias * decay + 1;
    out[i] = acc / debias;
    prevX = x;
  }
  return out;
}

function withAlpha(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}

function formatSeconds(s) {
  const a = Math.abs(s), sign = s < 0 ? '-' : '';
  const h = Math.floor(a / 3600), m = Math.floor((a % 3600) / 60), sec = Math.floor(a % 60);
  return h > 0 ? `${sign}${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${sign}${m}:${String(sec).padStart(2, '0')}`;
}

// Linear interpolation of epoch by step, from a run's train/epoch history.
function epochOf(epochs, step) {
  if (!epochs || epochs.step.length === 0) return null;
  const s = epochs.step, e = epochs.value;
  if (step <= s[0]) return e[0] * step / Math.max(s[0], 1);
  let lo = 0, hi = s.length - 1;
  if (step >= s[hi]) return e[hi];
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (s[mid] <= step) lo = mid; else hi = mid;
  }
  return e[lo] + (e[hi] - e[lo]) * (step - s[lo]) / ((s[hi] - s[lo]) || 1);
}

class MetricChart {
  // settings: {xMode: 'step' | 'epoch' | 'time', smoothing: 0..0.99, log: bool}, shared by a page's charts.
  constructor(parent, key, runs, settings) {
    this.key = key;
    this.runs = runs;
    this.settings = settings;
    this.range = null;
    this.u = null;
    this.csv = el('a', {href: '#', download: ''}, 'CSV');
    this.note = el('span', {class: 'muted'});
    this.plot = el('div', {class: 'plot'});
    this.root = el('div', {class: 'chart', 'data-key': key},
      el('header', {}, el('span', {class: 'title'}, key), el('span', {}, this.note, ' ', this.csv)),
      this.plot);
    parent.appendChild(this.root);
    window.pricerCharts[key] = this;
  }

  setRuns(runs) {
    this.runs = runs;
    return this.refresh();
  }

  // The number of drawn (non-null) raw values, over all series: what the browser tests count.
  pointCount() {
    if (!this.u) return 0;
    let n = 0;
    for (const idx of this.rawSeries) n += this.u.data[idx].filter(v => v != null).length;
    return n;
  }

  async refresh() {
    const runIds = this.runs.map(r => r.id);
    this.csv.href = '/api/track/metrics.csv?key=' + encodeURIComponent(this.key) + runIds.map(id => '&run=' + encodeURIComponent(id)).join('');
    if (runIds.length === 0) {
      this.destroy();
      this.note.textContent = 'no runs selected';
      return;
    }
    const buckets = Math.max(100, Math.min(2000, this.plot.clientWidth || 600));
    let query = '/api/track/series?key=' + encodeURIComponent(this.key) + '&buckets=' + buckets
      + runIds.map(id => '&run=' + encodeURIComponent(id)).join('');
    if (this.range) query += '&from=' + this.range.from + '&to=' + this.range.to;
    this.lastQuery = query;
    const [series, epochs] = await Promise.all([api.get(query), this.settings.xMode === 'epoch' ? this.epochs(runIds) : null]);
    this.draw(series, epochs);
  }

  async epochs(runIds) {
    const query = '/api/track/series?key=train%2Fepoch&buckets=5000' + runIds.map(id => '&run=' + encodeURIComponent(id)).join('');
    const byRun = {};
    for (const s of await api.get(query)) {
      const e = byRun[s.runId] || (byRun[s.runId] = {step: [], value: []});
      s.step.forEach((step, i) => { if (s.last[i] != null) { e.step.push(step); e.value.push(s.last[i]); } });
    }
    return byRun;
  }

  xOf(run, epochs, step, wallMs) {
    switch (this.settings.xMode) {
      case 'time': return (wallMs - run.startedMs) / 1000;
      case 'epoch': return epochs && epochs[run.id] ? epochOf(epochs[run.id], step) : null;
      default: return step;
    }
  }

  draw(allSeries, epochs) {
    const log = this.settings.log, smoothing = this.settings.smoothing;
    const positive = v => (v == null || (log && v <= 0) ? null : v);
    const tables = [], series = [{label: this.settings.xMode}], bands = [], hidden = [];
    this.rawSeries = [];
    this.smoothedSeries = [];
    this.steps = [];
    let missingEpochs = false;
    for (const s of allSeries) {
      const run = this.runs.find(r => r.id === s.runId);
      if (!run) continue;
      const xs = s.step.map((step, i) => this.xOf(run, epochs, step, s.wallMs[i]));
      if (xs.some(x => x == null)) { missingEpochs = true; continue; }
      const raw = s.last.map(positive);
      const table = [xs, raw];
      const label = run.name + (s.segment > 0 ? ` (segment ${s.segment + 1})` : '');
      const base = series.length;
      series.push({label, stroke: smoothing > 0 ? withAlpha(run.colour, 0.3) : run.colour, width: 1, spanGaps: false,
        dash: s.segment > 0 ? [6, 3] : undefined, points: {show: false}, value: (u, v) => fmtNumber(v)});
      this.rawSeries.push(base);
      if (smoothing > 0) hidden.push(base);
      if (smoothing > 0) {
        table.push(smoothTimeWeighted(xs, raw, smoothing));
        series.push({label, stroke: run.colour, width: 2, spanGaps: true, points: {show: false}, value: (u, v) => fmtNumber(v)});
        this.smoothedSeries.push(series.length - 1);
      }
      if (s.downsampled) {
        table.push(s.max.map(positive), s.min.map(positive));
        const top = series.length;
        series.push({label: 'max', stroke: 'transparent', width: 0, points: {show: false}},
          {label: 'min', stroke: 'transparent', width: 0, points: {show: false}});
        hidden.push(top, top + 1);
        bands.push({series: [top, top + 1], fill: withAlpha(run.colour, 0.12)});
      }
      tables.push(table);
      this.steps.push({xs, steps: s.step});
    }
    this.note.textContent = missingEpochs ? 'no train/epoch logged: those runs are left out' : (this.range ? 'zoomed (double-click to reset)' : '');
    this.destroy();
    if (tables.length === 0) return;
    const data = tables.length === 1 ? tables[0] : uPlot.join(tables);
    const xFormat = this.settings.xMode === 'time' ? (u, vals) => vals.map(formatSeconds) : undefined;
    const opts = {
      width: Math.max(300, this.plot.clientWidth || 560),
      height: 260,
      scales: {x: {time: false}, y: {distr: log ? 3 : 1}},
      axes: [{values: xFormat}, {size: 70, values: (u, vals) => vals.map(fmtNumber)}],
      series,
      bands,
      legend: {live: true},
      cursor: {
        drag: {x: true, y: false, setScale: false},
        bind: {dblclick: () => () => { this.resetZoom(); return null; }},
      },
      hooks: {setSelect: [u => this.zoomTo(u)], draw: [u => this.drawMark(u)]},
    };
    this.u = new uPlot(opts, data, this.plot);
    // Min/max bands and, while smoothing, the faint raw lines stay out of the legend: one entry per run.
    const rows = this.u.root.querySelectorAll('.u-legend .u-series');
    for (const idx of hidden) if (rows[idx]) rows[idx].style.display = 'none';
  }

  // settings.markStep (a run page opened at ?step=N, e.g. from a checkpoint commit) is drawn as a dashed line at
  // that step's x, whatever the x-axis; markedX is where it went (null when the step is not on this chart).
  drawMark(u) {
    this.markedX = null;
    const step = this.settings.markStep;
    if (step == null) return;
    let x = null;
    if (this.settings.xMode === 'step') x = step;
    else {
      for (const {xs, steps} of this.steps) {
        const i = steps.findIndex(s => s >= step);
        if (i >= 0) { x = xs[i]; break; }
      }
    }
    if (x == null || x < u.scales.x.min || x > u.scales.x.max) return;
    const left = u.valToPos(x, 'x', true);
    const ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = '#d62728';
    ctx.lineWidth = 1.5 * devicePixelRatio;
    ctx.setLineDash([5 * devicePixelRatio, 3 * devicePixelRatio]);
    ctx.beginPath();
    ctx.moveTo(left, u.bbox.top);
    ctx.lineTo(left, u.bbox.top + u.bbox.height);
    ctx.stroke();
    ctx.restore();
    this.markedX = x;
  }

  // A drag selected [left, left + width] pixels: re-query the steps that fall in it.
  zoomTo(u) {
    if (u.select.width < 3) return;
    const x0 = u.posToVal(u.select.left, 'x'), x1 = u.posToVal(u.select.left + u.select.width, 'x');
    let from = Infinity, to = -Infinity;
    for (const {xs, steps} of this.steps) {
      xs.forEach((x, i) => { if (x >= x0 && x <= x1) { from = Math.min(from, steps[i]); to = Math.max(to, steps[i]); } });
    }
    u.setSelect({left: 0, top: 0, width: 0, height: 0}, false);
    if (from === Infinity) return;
    this.range = {from, to};
    this.refresh();
  }

  resetZoom() {
    this.range = null;
    this.refresh();
  }

  destroy() {
    if (this.u) this.u.destroy();
    this.u = null;
  }
}

// The toolbar above a page's charts: x-axis, smoothing, log scale. Calls onChange after each change.
function chartToolbar(settings, onChange) {
  const x = el('select', {id: 'x-mode'}, el('option', {value: 'step'}, 'step'), el('option', {value: 'epoch'}, 'epoch'),
    el('option', {value: 'time'}, 'relative time'));
  x.value = settings.xMode;
  x.addEventListener('change', () => { settings.xMode = x.value; onChange(); });
  const smooth = el('input', {id: 'smoothing', type: 'range', min: '0', max: '0.99', step: '0.01'});
  smooth.value = settings.smoothing;
  const smoothValue = el('span', {class: 'muted'}, String(settings.smoothing));
  smooth.addEventListener('input', () => { settings.smoothing = +smooth.value; smoothValue.textContent = smooth.value; onChange(); });
  const log = el('input', {id: 'log-scale', type: 'checkbox'});
  log.checked = settings.log;
  log.addEventListener('change', () => { settings.log = log.checked; onChange(); });
  return el('div', {class: 'toolbar'},
    el('label', {}, 'x-axis ', x),
    el('label', {}, 'smoothing ', smooth, ' ', smoothValue),
    el('label', {}, log, ' log scale'));
}

// Orders keys for display: the standard training charts first, then the rest alphabetically.
function chartKeys(keys) {
  const rest = keys.filter(k => !STANDARD_KEYS.includes(k) && k !== 'train/epoch').sort();
  return STANDARD_KEYS.filter(k => keys.includes(k)).concat(rest);
}
