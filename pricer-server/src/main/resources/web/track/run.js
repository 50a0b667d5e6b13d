// One run: its facts, notes, config, metric charts and system charts (by relative time).
'use strict';

const runId = decodeURIComponent(location.pathname.split('/')[2]);
// ?step=N (the link from a checkpoint commit) marks that step on the charts and in the checkpoints table.
const markedStep = new URLSearchParams(location.search).get('step');
const settings = {xMode: 'step', smoothing: 0, log: false, markStep: markedStep == null ? null : Number(markedStep)};
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
    ['command', run.command || ''],
    ['tags', el('span', {id: 'tags'}, run.tags.join(', '), ' ', el('button', {class: 'rename-btn', title: 'edit tags', onclick: editTags}, '✎'))],
    ...(hubRepo(run) ? [['repository', el('a', {id: 'hub-repo', href: '/hub/repo.html?type=models&repo=' + encodeURIComponent(hubRepo(run))}, hubRepo(run))]] : []),
    ['download', el('a', {href: '/api/track/metrics.csv?run=' + encodeURIComponent(run.id)}, 'all metrics as CSV')],
  ];
  document.querySelector('#facts tbody').replaceChildren(...facts.map(([k, v]) => el('tr', {}, el('td', {}, k), el('td', {}, v))));
  const notes = document.getElementById('notes');
  if (document.activeElement !== notes) notes.value = run.notes || '';
  document.querySelector('#config tbody').replaceChildren(
    ...Object.entries(run.config).map(([k, v]) => el('tr', {}, el('td', {}, k), el('td', {}, v))));
  loadCheckpoints();
  const keys = await api.get('/api/track/runs/' + encodeURIComponent(runId) + '/keys');
  for (const key of chartKeys(keys)) {
    if (charts.has(key)) continue;
    const system = key.startsWith('system/');
    charts.set(key, new MetricChart(document.getElementById(system ? 'system' : 'charts'), key, [run], system ? systemSettings : settings));
  }
  await Promise.all([...charts.values()].map(c => c.setRuns([run])));
}

// The hub repository the trainer committed this run's checkpoints to (it records the id as config hub.repo).
function hubRepo(run) {
  return run.config['hub.repo'] || null;
}

// The repository's commits that saved a step of this run: each links to its commit page, its step to the chart.
async function loadCheckpoints() {
  const repo = hubRepo(run);
  const section = document.getElementById('checkpoints');
  section.hidden = !repo;
  if (!repo) return;
  const path = repo.split('/').map(encodeURIComponent).join('/');
  const note = document.getElementById('checkpoints-note');
  let commits;
  try {
    commits = await api.get('/api/models/' + path + '/commits/main?limit=1000');
  } catch (e) {
    note.textContent = 'repository ' + repo + ': ' + e.message;
    return;
  }
  const saved = commits.filter(c => c.step != null && (c.run == null || c.run === run.id)).sort((a, b) => a.step - b.step);
  note.textContent = saved.length === 0 ? 'no checkpoint committed yet' : '';
  const commitPage = sha => '/hub/commit.html?type=models&repo=' + encodeURIComponent(repo) + '&sha=' + sha;
  section.querySelector('tbody').replaceChildren(...saved.map(c => el('tr',
    {'data-step': c.step, class: c.step === settings.markStep ? 'marked' : ''},
    el('td', {}, el('a', {class: 'step-link', href: '?step=' + c.step}, String(c.step))),
    el('td', {}, el('a', {class: 'commit-link sha', href: commitPage(c.id)}, c.id.slice(0, 7))),
    el('td', {}, c.title),
    el('td', {}, fmtTime(Date.parse(c.date))))));
}

// Tags as W&B keeps them: free words to find runs by (the project's runs filter by tag through /api/track).
async function editTags() {
  const entered = prompt('Tags, separated by commas:', run.tags.join(', '));
  if (entered === null) return;
  await api.patch('/api/track/runs/' + encodeURIComponent(runId), {tags: entered.split(',').map(t => t.trim()).filter(t => t)});
  load();
}

document.getElementById('save-notes').addEventListener('click', async () => {
  await api.patch('/api/track/runs/' + encodeURIComponent(runId), {notes: document.getElementById('notes').value});
  document.getElementById('saved').textContent = 'saved';
});

document.getElementById('delete-run').addEventListener('click', async () => {
  if (!confirm('Delete run "' + run.name + '" (' + run.id + ') and all its metrics? This cannot be undone.')) return;
  try {
    await api.delete('/api/track/runs/' + encodeURIComponent(runId));
    location.href = '/projects/' + encodeURIComponent(run.project);
  } catch (e) {
    document.getElementById('delete-error').textContent = e.message;
  }
});

watchRuns([runId], () => load());
load();
