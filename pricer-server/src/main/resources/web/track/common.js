// Helpers shared by the tracking pages. Every value from the server is put on the page as text
// (textContent), never as markup, so a run named "<b>x</b>" shows exactly that.
'use strict';

const api = {
  async get(path) {
    const r = await fetch(path, {headers: {Accept: 'application/json'}});
    if (!r.ok) throw new Error((await r.json().catch(() => ({}))).error || r.statusText);
    return r.json();
  },
  patch(path, body) {
    return api.change('PATCH', path, body);
  },
  delete(path) {
    return api.change('DELETE', path);
  },
  // A write: with the token kept in this browser, asked for once the server says it needs one.
  async change(method, path, body) {
    const headers = {'Content-Type': 'application/json'};
    const token = localStorage.getItem('pricerToken');
    if (token) headers.Authorization = 'Bearer ' + token;
    const r = await fetch(path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
    const json = await r.json().catch(() => ({}));
    if (r.status === 401 || r.status === 403) {
      const entered = prompt('This server needs a token for changes (pricer token create):');
      if (entered) { localStorage.setItem('pricerToken', entered); return api.change(method, path, body); }
    }
    if (!r.ok) throw new Error(json.error || r.statusText);
    return json;
  },
};

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') node.className = v;
    else if (k === 'style') node.style.cssText = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children) {
    if (child == null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function fmtTime(ms) {
  if (ms == null) return '';
  const d = new Date(ms);
  const p = n => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function fmtDuration(ms) {
  if (ms == null || ms < 0) return '';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${sec}s` : `${sec}s`;
}

function fmtNumber(v) {
  if (v == null) return '';
  if (typeof v === 'string') return v;
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e5 || a < 1e-3 ? v.toExponential(3).replace(/\.?0+e/, 'e') : String(+v.toPrecision(5));
}

function runDuration(run) {
  const end = run.endedMs != null ? run.endedMs : (run.status === 'running' ? Date.now() : run.heartbeatMs);
  return end - run.startedMs;
}

function statusBadge(status) {
  return el('span', {class: 'status ' + status}, status);
}

// Turns a run name into an inline editor; saves on Enter or blur, cancels on Escape.
function renameInPlace(cell, run, onRenamed) {
  const input = el('input', {class: 'rename', type: 'text'});
  input.value = run.name;
  cell.replaceChildren(input);
  input.focus();
  input.select();
  let done = false;
  const finish = async save => {
    if (done) return;
    done = true;
    if (save && input.value.trim() && input.value !== run.name) {
      try {
        await api.patch('/api/track/runs/' + encodeURIComponent(run.id), {name: input.value});
      } catch (e) {
        alert('Rename failed: ' + e.message);
      }
    }
    onRenamed();
  };
  input.addEventListener('keydown', e => {
    if (e.key === 'Enter') finish(true);
    if (e.key === 'Escape') finish(false);
  });
  input.addEventListener('blur', () => finish(true));
}

// Live updates: calls onRun(runId) when a run changes (debounced per run). The stream is closed when the page is left,
// and a page the browser brings back from its back-forward cache loads afresh: a left page that kept its stream would
// hold one of the six connections a browser opens to a server, and a few such pages stall every request.
function watchRuns(runIds, onRun) {
  const query = runIds.map(id => 'run=' + encodeURIComponent(id)).join('&');
  const source = new EventSource('/api/track/events' + (query ? '?' + query : ''));
  const timers = new Map();
  source.addEventListener('run', e => {
    const id = e.data;
    clearTimeout(timers.get(id));
    timers.set(id, setTimeout(() => onRun(id), 300));
  });
  addEventListener('pagehide', () => source.close());
  addEventListener('pageshow', e => { if (e.persisted) location.reload(); });
}
