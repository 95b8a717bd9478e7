// Tailor's admin page: lists the registered adapters (GET /v1/adapters) and rolls back or splits traffic through
// the same JSON API. Every change sends the expected_version this page displayed, so a change made elsewhere since
// is refused (409) instead of overwritten.
'use strict';

const KEY_STORAGE = 'tailor.adminKey';

const page = {
  adapters: document.getElementById('adapters'),
  error: document.getElementById('error'),
  status: document.getElementById('status'),
  keyForm: document.getElementById('key-form'),
  key: document.getElementById('key'),
};

/** A refusal from the API: its HTTP status and the message of its OpenAI-style error body. */
class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Sends a request to the JSON API with the stored key; answers the parsed body or throws an ApiError. */
async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (key) {
    headers.Authorization = 'Bearer ' + key;
  }
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
  }
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, 'cannot reach the server: ' + e.message);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (e) {
    data = null;
  }
  if (!response.ok) {
    const message = data && data.error && typeof data.error.message === 'string'
      ? data.error.message
      : `${response.status} ${response.statusText}${text ? ': ' + text : ''}`;
    throw new ApiError(response.status, message);
  }
  return data;
}

/** Makes an element with attributes (on*: listeners) and children (strings become text, never HTML). */
function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    if (name.startsWith('on')) {
      node.addEventListener(name.slice(2), value);
    } else if (name === 'className') {
      node.className = value;
    } else {
      node.setAttribute(name, value === true ? '' : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null && child !== false) {
      node.append(child instanceof Node ? child : String(child));
    }
  }
  return node;
}

function showError(message) {
  page.error.textContent = message;
  page.error.hidden = false;
  page.status.hidden = true;
}

function showStatus(message) {
  page.status.textContent = message;
  page.status.hidden = false;
  page.error.hidden = true;
}

function clearMessages() {
  page.error.hidden = true;
  page.status.hidden = true;
}

function showKeyForm(show) {
  page.keyForm.hidden = !show;
  if (show && !sessionStorage.getItem(KEY_STORAGE)) {
    page.key.focus();
  }
}

function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return (unit === 0 ? value : value.toFixed(1)) + ' ' + units[unit];
}

/** Seconds since the epoch as "2026-01-31 14:05:09 UTC". */
function time(seconds) {
  return new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', ' ') + ' UTC';
}

/** A hash shortened for a table cell, whole in its tooltip. */
function shortHash(hash) {
  if (!hash) {
    return el('span', { className: 'muted' }, '—');
  }
  const bare = hash.replace(/^sha256:/, '');
  return el('span', { className: 'mono', title: hash }, bare.slice(0, 12));
}

function number(x, digits) {
  return x === null || x === undefined ? '—' : Number(x).toFixed(digits);
}

/** Each version's share of the split in percent, or an empty map when there is no split. */
function shares(traffic) {
  const weights = traffic && traffic.versions ? traffic.versions : {};
  const total = Object.values(weights).reduce((a, b) => a + b, 0);
  const result = new Map();
  if (total > 0) {
    for (const [version, weight] of Object.entries(weights)) {
      result.set(Number(version), (100 * weight) / total);
    }
  }
  return result;
}

function percent(p) {
  return (Math.round(p * 10) / 10) + '%';
}

function latestEvaluation(info, version) {
  let last = null;
  for (const e of info.evaluations || []) {
    if (e.version === version) {
      last = e;
    }
  }
  return last;
}

function evaluationCell(e) {
  if (!e) {
    return el('td', { className: 'evaluation muted' }, 'not evaluated');
  }
  const parts = [`loss ${number(e.loss, 4)}`, `ppl ${number(e.perplexity, 2)}`];
  if (e.accuracy !== null && e.accuracy !== undefined) {
    parts.push(`accuracy ${number(e.accuracy, 3)}`);
  }
  const detail = `${e.data} (${e.format}, ${e.sequences} sequences, ${e.tokens} tokens`
    + `${e.max_examples ? ', first ' + e.max_examples : ''}), ${time(e.evaluated)}`;
  return el('td', { className: 'evaluation', title: detail }, parts.join(' · '));
}

function aliasBadges(aliases, version) {
  return Object.entries(aliases)
    .filter(([, v]) => version === undefined || v === version)
    .sort(([a], [b]) => (a === 'prod' ? -1 : b === 'prod' ? 1 : a.localeCompare(b)))
    .map(([alias, v]) => el('span', {
      className: alias === 'prod' ? 'badge prod' : 'badge',
      'data-alias': alias,
    }, version === undefined ? `${alias} → v${v}` : alias));
}

function versionsTable(info) {
  const split = shares(info.traffic);
  const rows = info.versions.map((v) => el('tr', { 'data-version': v.version },
    el('td', { className: 'num' }, 'v' + v.version),
    el('td', { className: 'aliases' }, aliasBadges(info.aliases, v.version)),
    el('td', { className: 'num traffic-share' }, split.has(v.version) ? percent(split.get(v.version)) : ''),
    el('td', {}, v.method),
    el('td', { className: 'num' }, v.rank === null || v.rank === undefined ? '—' : v.rank),
    el('td', { className: 'num' }, bytes(v.bytes)),
    el('td', {}, shortHash(v.base_fingerprint)),
    el('td', {}, shortHash(v.sha256)),
    el('td', {}, time(v.created)),
    el('td', {}, v.creator || '—'),
    evaluationCell(latestEvaluation(info, v.version))));
  return el('table', { className: 'versions' },
    el('thead', {}, el('tr', {},
      ['version', 'aliases', 'traffic', 'method', 'rank', 'size', 'base', 'sha256', 'registered', 'by',
        'latest evaluation']
        .map((h) => el('th', {}, h)))),
    el('tbody', {}, rows));
}

function versionSelect(info, selected, label) {
  return el('select', { 'aria-label': label },
    info.versions.map((v) => el('option', { value: v.version, selected: v.version === selected }, 'v' + v.version)));
}

/** The split between two versions: the first's percent, the second takes the rest. */
function trafficForm(info) {
  const split = shares(info.traffic);
  const numbers = info.versions.map((v) => v.version);
  const inSplit = [...split.keys()].sort((a, b) => split.get(b) - split.get(a) || a - b);
  const prod = info.aliases.prod;
  const first = inSplit.length > 0 ? inSplit[0] : (prod !== undefined ? prod : numbers[numbers.length - 1]);
  const others = numbers.filter((n) => n !== first);
  const second = inSplit.length > 1 ? inSplit[1] : (others.length > 0 ? others[others.length - 1] : first);
  const firstSelect = versionSelect(info, first, 'first version');
  const secondSelect = versionSelect(info, second, 'second version');
  const firstPercent = el('input', {
    type: 'number', min: 0, max: 100, step: 1, name: 'percent', 'aria-label': 'first version percent',
    value: split.has(first) ? Math.round(split.get(first)) : 100,
  });
  const rest = el('span', { className: 'rest' });
  const updateRest = () => {
    const p = Number(firstPercent.value);
    rest.textContent = Number.isFinite(p) && p >= 0 && p <= 100 ? `${100 - p}%` : 'the rest';
  };
  firstPercent.addEventListener('input', updateRest);
  updateRest();
  const revision = info.traffic ? info.traffic.revision : 0;
  const now = split.size > 0
    ? 'Traffic: ' + [...split.entries()].map(([v, p]) => `v${v} ${percent(p)}`).join(', ')
    : 'Traffic: all to prod';

  const submit = async (event) => {
    event.preventDefault();
    const a = Number(firstSelect.value);
    const b = Number(secondSelect.value);
    const p = Number(firstPercent.value);
    if (!Number.isInteger(p) || p < 0 || p > 100) {
      showError(`${info.name}: the split is a whole percent from 0 to 100, got '${firstPercent.value}'`);
      return;
    }
    if (a === b) {
      showError(`${info.name}: choose two different versions to split between`);
      return;
    }
    const versions = { [a]: p / 100, [b]: (100 - p) / 100 };
    await change(info.name, `traffic is now v${a} ${p}%, v${b} ${100 - p}%`,
      () => api('POST', adapterPath(info.name) + '/traffic', { versions, expected_version: revision }));
  };
  const clear = () => change(info.name, 'traffic split cleared: prod serves every request',
    () => api('DELETE', adapterPath(info.name) + '/traffic', { expected_version: revision }));

  return el('form', { className: 'traffic', novalidate: true, onsubmit: submit },
    el('span', { className: 'now', 'data-revision': revision }, now),
    el('span', {}, 'Split:'), firstSelect, el('span', {}, 'gets'), firstPercent, el('span', {}, '%,'),
    secondSelect, el('span', {}, 'gets'), rest,
    el('button', { type: 'submit', className: 'set-split', disabled: numbers.length < 2 }, 'Set split'),
    el('button', { type: 'button', className: 'clear-split', disabled: split.size === 0, onclick: clear },
      'Clear split'));
}

function adapterPath(name) {
  return '/v1/adapters/' + encodeURIComponent(name);
}

function adapterSection(info) {
  const prod = info.aliases.prod;
  const rollback = () => change(info.name, 'prod rolled back to v{version}',
    () => api('POST', adapterPath(info.name) + '/rollback', { expected_version: prod }));
  return el('section', { className: 'adapter', 'data-adapter': info.name },
    el('header', {},
      el('h2', {}, info.name),
      el('span', { className: 'alias-list' }, aliasBadges(info.aliases)),
      el('span', { className: 'spacer' }),
      el('button', {
        type: 'button',
        className: 'rollback',
        disabled: prod === undefined,
        title: prod === undefined ? 'no prod version to roll back' : `move prod back from v${prod}`,
        onclick: rollback,
      }, 'Rollback')),
    versionsTable(info),
    trafficForm(info));
}

/**
 * Runs one change, then shows the registry as it is now. A 409 means the adapter changed since the page showed it:
 * the page says so and shows the current state instead of retrying.
 */
async function change(name, done, request) {
  for (const button of page.adapters.querySelectorAll('button')) {
    button.disabled = true;
  }
  try {
    const answer = await request();
    const version = answer && answer.version !== undefined ? answer.version : '';
    if (await load()) {
      showStatus(`${name}: ${done.replace('{version}', version)}`);
    }
  } catch (e) {
    await load();
    if (e.status === 409) {
      showError(`${name} changed since this page showed it, so nothing was done: ${e.message}. `
        + 'The page now shows the current state; check it and try again.');
    } else {
      report(e);
    }
  }
}

function report(e) {
  if (e.status === 401) {
    showKeyForm(true);
    showError(`This server needs the admin key: ${e.message}`);
  } else if (e.status === 403) {
    showKeyForm(true);
    showError(`This key may not do that: ${e.message}`);
  } else {
    showError(e.message);
  }
}

/** Fetches the registry and redraws it; a refusal is shown in the page and leaves the list empty. */
async function load() {
  let list;
  try {
    list = await api('GET', '/v1/adapters');
  } catch (e) {
    page.adapters.replaceChildren(el('p', { className: 'empty' }, 'No adapters to show.'));
    report(e);
    return false;
  }
  const adapters = list && Array.isArray(list.data) ? list.data : [];
  page.adapters.replaceChildren(...(adapters.length === 0
    ? [el('p', { className: 'empty' }, 'No adapters are registered. Register one with PUT /v1/adapters/{name}.')]
    : adapters.map(adapterSection)));
  return true;
}

page.keyForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const key = page.key.value.trim();
  if (!key) {
    showError('Type the admin key first.');
    return;
  }
  sessionStorage.setItem(KEY_STORAGE, key);
  page.key.value = '';
  clearMessages();
  if (await load()) {
    showStatus('Key accepted.');
  }
});

document.getElementById('forget-key').addEventListener('click', async () => {
  sessionStorage.removeItem(KEY_STORAGE);
  clearMessages();
  await load();
});

document.getElementById('refresh').addEventListener('click', async () => {
  clearMessages();
  await load();
});

showKeyForm(sessionStorage.getItem(KEY_STORAGE) !== null);
load();
