// One run: its facts, notes, config, metric charts and system charts (by relative time).
'use strict';

const runId = decodeURIComponent(location.pathname.split('/')[2]);
const settings = {xMode: 'step', smoothing: 0, log: false};
const systemSettings = {xMode: 'time', smoothing: 0, log: false};
const charts = new Map();
let run = null;

document.getElementById('toolbar').appendChild(chartToolbar(settings, () => charts.forEach(c => c.settings === settings && c.refresh())));

async function load() {
  run = await api.get('/api/track/runs/' + encodeURIComponent(runId));
  document.title = run.name + ' · Pricer';
  document.getElementById('swatch').style.background = run.colour;
  const name = document.getElementById('name');
  name.replaceChildren(run.name, ' ', el('button', {class: 'rename-btn', title: 'rename', onclick: () => renameInPlace(name, run, load)}, '✎'));
  document.getElementById('status').replaceChildren(statusBadge(run.status));
  const facts = [
    ['project', el('a', {href: '/projects/' + encodeURIComponent(run.project)}, run.project)],
    ['id', run.id], ['started', fmtTime(run.startedMs)], ['ended', fmtTime(run.endedMs)],
    ['duration', fmtDuration(runDuration(run))], ['host', run.host || ''], ['git commit', run.gitCommit || ''],
    ['command', run.command || ''], ['tags', run.tags.join(', ')],
    ['download', el('a', {href: '/api/track/metrics.csv?run=' + encodeURIComponent(run.id)}, 'all metrics as CSV')],
  ];
  document.querySelector('#facts tbody').replaceChildren(...facts.map(([k, v]) => el('tr', {}, el('td', {}, k), el('td', {}, v))));
  const notes = document.getElementById('notes');
  if (document.activeElement !== notes) notes.value = run.notes || '';
  document.querySelector('#config tbody').replaceChildren(
    ...Object.entries(run.config).map(([k, v]) => el('tr', {}, el('td', {}, k), el('td', {}, v))));
  const keys = await api.get('/api/track/runs/' + encodeURIComponent(runId) + '/keys');
  for (const key of chartKeys(keys)) {
    if (charts.has(key)) continue;
    const system = key.startsWith('system/');
    charts.set(key, new MetricChart(document.getElementById(system ? 'system' : 'charts'), key, [run], system ? systemSettings : settings));
  }
  await Promise.all([...charts.values()].map(c => c.setRuns([run])));
}

document.getElementById('save-notes').addEventListener('click', async () => {
  await api.patch('/api/track/runs/' + encodeURIComponent(runId), {notes: document.getElementById('notes').value});
  document.getElementById('saved').textContent = 'saved';
});

watchRuns([runId], () => load());
load();
