// The runs table of a project, its charts (selected runs overlaid) and the config differences.
'use strict';

const project = decodeURIComponent(location.pathname.split('/')[2]);
const settings = {xMode: 'step', smoothing: 0, log: false};
const charts = new Map();
let runs = [];
let selected = null;
let sort = {by: 'started', order: 'desc'};
let filter = '';

document.title = project + ' · Pricer';
document.getElementById('title').textContent = project;
document.getElementById('toolbar').appendChild(chartToolbar(settings, () => charts.forEach(c => c.refresh())));
document.getElementById('filter').addEventListener('input', e => {
  filter = e.target.value;
  renderTable();
  renderDiff();
  syncCharts();
});

async function load() {
  runs = await api.get('/api/track/projects/' + encodeURIComponent(project) + '/runs?sort=' + sort.by + '&order=' + sort.order);
  if (selected === null) selected = new Set(runs.slice(0, 10).map(r => r.id));
  for (const id of [...selected]) if (!runs.some(r => r.id === id)) selected.delete(id);
  renderTable();
  renderDiff();
  await syncCharts();
}

// The runs the filter box lets through: a word of the name, a tag or the status.
function shownRuns() {
  const words = filter.trim().toLowerCase();
  if (!words) return runs;
  return runs.filter(r => r.name.toLowerCase().includes(words) || r.status.includes(words) || r.tags.some(t => t.toLowerCase().includes(words)));
}

function selectedRuns() {
  return shownRuns().filter(r => selected.has(r.id));
}

// Config keys whose values differ between runs: the ones worth a column or a row.
function differingKeys(list) {
  const keys = new Set(list.flatMap(r => Object.keys(r.config)));
  return [...keys].sort().filter(k => new Set(list.map(r => r.config[k])).size > 1);
}

function renderTable() {
  const shown = shownRuns();
  const configKeys = differingKeys(shown).slice(0, 4);
  const metricKeys = [...new Set(shown.flatMap(r => Object.keys(r.lastValues)))]
    .filter(k => !k.startsWith('system/')).sort((a, b) => chartKeys([a, b])[0] === a ? -1 : 1).slice(0, 4);
  const header = (label, by) => {
    const th = el('th', by ? {class: 'sortable'} : {}, label + (sort.by === by ? (sort.order === 'desc' ? ' ▾' : ' ▴') : ''));
    if (by) th.addEventListener('click', () => {
      sort = {by, order: sort.by === by && sort.order === 'desc' ? 'asc' : 'desc'};
      load();
    });
    return th;
  };
  const all = el('input', {type: 'checkbox', title: 'select all'});
  all.checked = shown.length > 0 && shown.every(r => selected.has(r.id));
  all.addEventListener('change', () => {
    selected = new Set(all.checked ? shown.map(r => r.id) : []);
    renderTable();
    renderDiff();
    syncCharts();
  });
  const head = document.querySelector('#runs thead');
  head.replaceChildren(el('tr', {}, el('th', {}, all), el('th', {}), header('name', 'name'), header('status', 'status'),
    header('started', 'started'), header('duration', 'duration'),
    ...configKeys.map(k => header(k, 'config.' + k)), ...metricKeys.map(k => header(k, 'metric.' + k))));
  const body = document.querySelector('#runs tbody');
  body.replaceChildren();
  for (const run of shown) {
    const check = el('input', {type: 'checkbox', class: 'select-run', 'data-run': run.id});
    check.checked = selected.has(run.id);
    check.addEventListener('change', () => {
      if (check.checked) selected.add(run.id); else selected.delete(run.id);
      renderDiff();
      syncCharts();
    });
    const nameCell = el('td', {class: 'run-name'});
    const showName = () => nameCell.replaceChildren(
      el('a', {href: '/runs/' + encodeURIComponent(run.id)}, run.name), ' ',
      el('button', {class: 'rename-btn', title: 'rename', onclick: () => renameInPlace(nameCell, run, load)}, '✎'));
    showName();
    body.appendChild(el('tr', {'data-run': run.id},
      el('td', {}, check),
      el('td', {}, el('span', {class: 'swatch', style: 'background:' + run.colour})),
      nameCell,
      el('td', {}, statusBadge(run.status)),
      el('td', {}, fmtTime(run.startedMs)),
      el('td', {class: 'num'}, fmtDuration(runDuration(run))),
      ...configKeys.map(k => el('td', {}, run.config[k] ?? '')),
      ...metricKeys.map(k => el('td', {class: 'num'}, fmtNumber(run.lastValues[k])))));
  }
}

async function syncCharts() {
  const chosen = selectedRuns();
  const keyLists = await Promise.all(chosen.map(r => api.get('/api/track/runs/' + encodeURIComponent(r.id) + '/keys')));
  const keys = chartKeys([...new Set(keyLists.flat())].filter(k => !k.startsWith('system/')));
  const container = document.getElementById('charts');
  for (const [key, chart] of charts) {
    if (!keys.includes(key)) {
      chart.destroy();
      chart.root.remove();
      charts.delete(key);
      delete window.pricerCharts[key];
    }
  }
  for (const key of keys) {
    if (!charts.has(key)) charts.set(key, new MetricChart(container, key, chosen, settings));
  }
  keys.forEach(k => container.appendChild(charts.get(k).root));
  await Promise.all([...charts.values()].map(c => c.setRuns(chosen)));
}

function renderDiff() {
  const chosen = selectedRuns();
  const box = document.getElementById('config-diff');
  if (chosen.length < 2) {
    box.replaceChildren(el('p', {class: 'muted'}, 'Select two runs or more to compare their configs.'));
    return;
  }
  const keys = differingKeys(chosen);
  if (keys.length === 0) {
    box.replaceChildren(el('p', {class: 'muted'}, 'The selected runs have the same config.'));
    return;
  }
  box.replaceChildren(el('table', {class: 'grid diff', id: 'config-diff-table'},
    el('thead', {}, el('tr', {}, el('th', {}, 'config'),
      ...chosen.map(r => el('th', {}, el('span', {class: 'swatch', style: 'background:' + r.colour}), ' ', r.name)))),
    el('tbody', {}, ...keys.map(k => el('tr', {'data-key': k}, el('td', {}, k), ...chosen.map(r => el('td', {}, r.config[k] ?? '—')))))));
}

watchRuns([], id => {
  if (selected && selected.has(id)) charts.forEach(c => c.refresh());
  api.get('/api/track/projects/' + encodeURIComponent(project) + '/runs?sort=' + sort.by + '&order=' + sort.order).then(list => {
    const grew = list.length !== runs.length;
    runs = list;
    if (grew) load(); else renderTable();
  });
});

load();
