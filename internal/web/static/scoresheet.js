// The judge's scoresheet. Totals follow the typing, Tab and Enter move between cells, values out
// of range are refused before anything is sent, and every complete row goes through a queue kept
// in this browser (localStorage) until the server has acknowledged it: a network drop, a reload
// or an expired session never loses a row, and each row's Idempotency-Key, chosen when it is
// queued, makes a retry harmless.

const page = document.getElementById('sheet-page');
const cfg = JSON.parse(page.dataset.config);
const csrf = document.body.dataset.csrf;
const table = document.getElementById('sheet');
const rows = Array.from(table.tBodies[0].rows);
const statusLine = document.getElementById('sheet-status');
const readOnly = cfg.certified;
const cap = cfg.cap == null ? null : Number(cfg.cap);
const decimal = /^\d{1,6}(\.\d{1,2})?$/;

// The criteria, in column order: id and maximum.
const criteria = Array.from(table.tHead.querySelectorAll('th.crit'), (th) => ({ id: th.dataset.criterion, max: th.dataset.max }));
const criterionOf = (input) => criteria[Number(input.dataset.col)];
const inputFor = (tr, criterionId) => inputsOf(tr)[criteria.findIndex((c) => c.id === criterionId)];
const inputsOf = (tr) => Array.from(tr.querySelectorAll('input.score'));
const rowOf = (el) => el.closest('tr');
const rowById = (id) => rows.find((tr) => tr.dataset.contestant === id);
const fmt = (n) => String(Math.round(n * 100) / 100);
const clock = () => new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false, timeZone: cfg.zone });

// ---- the queue ------------------------------------------------------------------------------

function loadQueue() {
  try {
    const q = JSON.parse(localStorage.getItem(cfg.queue));
    if (q && Array.isArray(q.items)) return { seq: q.seq || 0, items: q.items, drafts: q.drafts || {} };
  } catch (e) { /* a damaged entry is replaced below */ }
  return { seq: 0, items: [], drafts: {} };
}

function saveQueue(q) { localStorage.setItem(cfg.queue, JSON.stringify(q)); }

// A UUID v4 from getRandomValues: crypto.randomUUID needs a secure context, and a venue's local
// network is often plain http.
function newKey() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

let inflight = null; // seq of the entry being sent
let needSignIn = false;
let backoff = 0;
let retryTimer = null;

// enqueue puts the row's values in the queue. A row still waiting has its values replaced, with a
// new key (the old values may have reached the server under the old key) and its place kept; a row
// being sent gets a new entry after it.
function enqueue(tr) {
  const q = loadQueue();
  const id = tr.dataset.contestant;
  const scores = inputsOf(tr).map((i) => ({ criterion_id: criterionOf(i).id, score: Number(i.value.trim().replace(',', '.')) }));
  const entry = q.items.find((i) => i.contestant === id && i.seq !== inflight);
  if (entry) {
    Object.assign(entry, { scores, key: newKey(), state: 'waiting' });
    delete entry.reason;
    delete entry.field;
  } else {
    q.seq += 1;
    q.items.push({ seq: q.seq, contestant: id, key: newKey(), scores, state: 'waiting' });
  }
  delete q.drafts[id];
  saveQueue(q);
  tr.dataset.dirty = '';
  setRowState(tr, 'waiting');
  pump();
}

function retryLater() {
  backoff = Math.min(backoff ? backoff * 2 : 1, 15);
  clearTimeout(retryTimer);
  retryTimer = setTimeout(pump, backoff * 1000);
}

// pump sends the waiting entries in order, one request at a time. With several tabs open on the
// same sheet, only the one holding the queue's lock sends (Web Locks; absent without a secure
// context, where the Idempotency-Keys still keep a row from being written twice).
function pump() {
  if (inflight !== null || needSignIn) return;
  if (!navigator.locks) {
    drain();
    return;
  }
  navigator.locks.request(cfg.queue, { ifAvailable: true }, async (lock) => {
    if (!lock) {
      retryLater();
      return;
    }
    await drain();
  });
}

async function drain() {
  while (await sendOne()) { /* next entry */ }
}

// sendOne sends the oldest waiting entry and says whether to go on with the next.
async function sendOne() {
  if (needSignIn) return false;
  const item = loadQueue().items.find((i) => i.state === 'waiting');
  updateStatus();
  if (!item) return false;
  if (!navigator.onLine) return false; // the online event starts it again
  inflight = item.seq;
  const tr = rowById(item.contestant);
  if (tr) setRowState(tr, 'sending');
  let res = null;
  let body = {};
  try {
    res = await fetch(`/api/v1/categories/${cfg.category}/scores`, {
      method: 'PUT',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf, 'Idempotency-Key': item.key },
      body: JSON.stringify({ scores: item.scores.map((s) => ({ contestant_id: item.contestant, criterion_id: s.criterion_id, score: s.score })) }),
    });
    body = await res.json().catch(() => ({}));
  } catch (e) {
    res = null; // offline, or the server did not answer: the entry waits
  }
  inflight = null;
  const q = loadQueue();
  const idx = q.items.findIndex((i) => i.seq === item.seq);
  const stillQueued = () => q.items.some((i) => i.contestant === item.contestant && i.seq !== item.seq);
  if (!res || res.status === 429 || res.status >= 500) {
    if (tr) setRowState(tr, 'waiting');
    retryLater();
    updateStatus();
    return false;
  }
  backoff = 0;
  const code = body.error ? body.error.code : '';
  if (res.status === 401 || code === 'CSRF_FAILED') {
    // Keep everything; ask for a new session, then the queue goes on.
    needSignIn = true;
    if (tr) setRowState(tr, 'waiting');
    askSignIn();
    updateStatus();
    return false;
  }
  if (res.ok) {
    if (idx >= 0) q.items.splice(idx, 1);
    saveQueue(q);
    if (tr) setRowState(tr, stillQueued() ? 'waiting' : 'saved', clock());
  } else {
    const reason = (body.error && body.error.message) || `refused by the server (${res.status})`;
    let field = null;
    const m = body.error && /^scores\[(\d+)\]/.exec(body.error.field || '');
    if (m && item.scores[Number(m[1])]) field = item.scores[Number(m[1])].criterion_id;
    if (idx >= 0) Object.assign(q.items[idx], { state: 'refused', reason, field });
    saveQueue(q);
    if (tr) showRefused(tr, reason, field);
  }
  updateStatus();
  return true;
}

// ---- rows -----------------------------------------------------------------------------------

const stateWords = {
  empty: () => 'Not scored',
  editing: () => 'Editing',
  incomplete: (n) => `Incomplete: ${n} left, kept on this device`,
  invalid: (msg) => `Not sent: ${msg}`,
  waiting: () => 'Waiting: will send when online',
  sending: () => 'Sending…',
  saved: (t) => `✓ Saved ${t}`,
  refused: (msg) => `Refused: ${msg}`,
  locked: () => 'Certified: read-only',
};

function setRowState(tr, state, detail) {
  tr.dataset.state = state;
  const cell = tr.querySelector('td.state');
  if (state === 'saved') cell.dataset.saved = detail;
  cell.textContent = stateWords[state](detail);
  markDone(tr);
  updateCertify();
}

function showRefused(tr, reason, criterionId) {
  setRowState(tr, 'refused', reason);
  const input = criterionId && inputFor(tr, criterionId);
  if (input) {
    input.setAttribute('aria-invalid', 'true');
    if (tr.contains(document.activeElement) || document.activeElement === document.body) input.focus();
  }
}

// check reads a cell: empty, a value, or the reason it is refused.
function check(input) {
  const t = input.value.trim().replace(',', '.');
  if (t === '') return { empty: true };
  if (t.startsWith('-')) return { error: 'a score cannot be negative' };
  if (!decimal.test(t)) return { error: 'type a number such as 8 or 8.5 (two decimals at most)' };
  const v = Number(t);
  const { max } = criterionOf(input);
  if (v > Number(max)) return { error: `over the maximum of ${max}` };
  return { value: v };
}

// checkRow updates the row's total and cell marks and says whether it can be sent.
function checkRow(tr) {
  let total = 0;
  let filled = 0;
  let problem = null;
  const inputs = inputsOf(tr);
  for (const input of inputs) {
    const c = check(input);
    if (c.error) {
      input.setAttribute('aria-invalid', 'true');
      const name = tr.querySelector(`label[for="${input.id}"]`).firstChild.textContent.trim();
      if (!problem) problem = { input, msg: `${name} ${c.error}` };
    } else {
      input.removeAttribute('aria-invalid');
    }
    if (c.value !== undefined) {
      total += c.value;
      filled += 1;
    }
  }
  tr.querySelector('.total-value').textContent = filled ? fmt(total) : '–';
  if (!problem && cap !== null && total > cap) problem = { input: inputs[inputs.length - 1], msg: `the total ${fmt(total)} is over the cap of ${fmt(cap)}` };
  tr.classList.toggle('over', !!problem);
  return { complete: filled === inputs.length, left: inputs.length - filled, filled, problem };
}

// commit sends a changed row when it is complete and valid; otherwise it says why not.
function commit(tr) {
  if (readOnly || tr.dataset.dirty !== '1') return true;
  const r = checkRow(tr);
  if (r.problem) {
    setRowState(tr, 'invalid', r.problem.msg);
    return false;
  }
  if (!r.complete) {
    setRowState(tr, r.filled ? 'incomplete' : 'empty', r.left);
    return true;
  }
  enqueue(tr);
  return true;
}

function saveDraft(tr) {
  const q = loadQueue();
  q.drafts[tr.dataset.contestant] = inputsOf(tr).map((i) => i.value);
  saveQueue(q);
}

table.addEventListener('input', (e) => {
  if (!e.target.matches('input.score')) return;
  const tr = rowOf(e.target);
  tr.dataset.dirty = '1';
  const r = checkRow(tr);
  saveDraft(tr);
  if (r.problem) setRowState(tr, 'invalid', r.problem.msg);
  else setRowState(tr, 'editing');
});

// A row is saved when focus leaves it.
table.addEventListener('focusout', (e) => {
  if (!e.target.matches('input.score')) return;
  const tr = rowOf(e.target);
  if (e.relatedTarget && tr.contains(e.relatedTarget)) return;
  commit(tr);
});

table.addEventListener('keydown', (e) => {
  if (e.key !== 'Enter' || !e.target.matches('input.score')) return;
  e.preventDefault();
  const input = e.target;
  const tr = rowOf(input);
  const r = checkRow(tr);
  if (r.problem) {
    setRowState(tr, 'invalid', r.problem.msg);
    r.problem.input.focus();
    r.problem.input.select();
    return;
  }
  const inputs = inputsOf(tr);
  const col = inputs.indexOf(input);
  if (cardMode()) {
    // On a phone: across the card, then the next card.
    if (col < inputs.length - 1) inputs[col + 1].focus();
    else if (r.complete) {
      commit(tr);
      showCard(current + 1, true);
    } else inputs.find((i) => i.value.trim() === '').focus();
    return;
  }
  // In the grid: down the column.
  const next = rows[rows.indexOf(tr) + 1];
  if (next) inputsOf(next)[col].focus();
  else commit(tr);
});

// ---- phone cards ------------------------------------------------------------------------------

const nav = document.getElementById('card-nav');
const jump = document.getElementById('jump');
const wide = window.matchMedia('(min-width: 820px)');
let current = 0;
const cardMode = () => !wide.matches;

function markDone(tr) {
  const opt = jump.options[rows.indexOf(tr)];
  const done = tr.dataset.state === 'saved' || tr.dataset.state === 'locked';
  const label = opt.textContent.replace(/ ✓$/, '');
  opt.textContent = done ? `${label} ✓` : label;
}

function showCard(i, focus) {
  const tr = rows[current];
  if (tr) commit(tr);
  current = Math.max(0, Math.min(rows.length - 1, i));
  rows.forEach((r, n) => r.classList.toggle('current', n === current));
  jump.value = String(current + 1);
  if (focus) {
    const first = inputsOf(rows[current]).find((x) => x.value === '') || inputsOf(rows[current])[0];
    if (first) first.focus();
  }
}

function layout() {
  nav.hidden = !cardMode();
  table.classList.toggle('cards', cardMode());
  if (cardMode()) showCard(current, false);
}

document.getElementById('prev-card').addEventListener('click', () => showCard(current - 1, true));
document.getElementById('next-card').addEventListener('click', () => showCard(current + 1, true));
jump.addEventListener('change', () => showCard(Number(jump.value) - 1, true));
wide.addEventListener('change', layout);

// ---- status and certification ----------------------------------------------------------------------

function updateStatus() {
  if (readOnly) return;
  const items = loadQueue().items;
  const waiting = items.filter((i) => i.state === 'waiting').length;
  const refused = items.filter((i) => i.state === 'refused').length;
  const parts = [];
  if (waiting) parts.push(`${waiting} ${waiting === 1 ? 'row' : 'rows'} waiting${navigator.onLine ? '' : ' (offline)'}: safe on this device, sent as soon as the network is back.`);
  if (refused) parts.push(`${refused} ${refused === 1 ? 'row was' : 'rows were'} refused: see the reason in the row, correct it, press Enter.`);
  statusLine.textContent = parts.length ? parts.join(' ') : 'All complete rows are saved.';
  statusLine.dataset.waiting = String(waiting);
  statusLine.dataset.refused = String(refused);
  updateCertify();
}

const certifyButton = document.getElementById('certify-button');
const missingBox = document.getElementById('missing');

function updateCertify() {
  if (!certifyButton) return;
  const problems = [];
  rows.forEach((tr) => {
    const empty = inputsOf(tr).filter((i) => i.value.trim() === '').length;
    const who = `${tr.dataset.order}. ${tr.querySelector('.name').textContent}`;
    if (empty) problems.push(`${who}: ${empty} ${empty === 1 ? 'criterion' : 'criteria'} empty`);
    else if (tr.dataset.state !== 'saved') problems.push(`${who}: not saved yet (${tr.querySelector('td.state').textContent})`);
  });
  missingBox.replaceChildren();
  if (problems.length) {
    const p = document.createElement('p');
    p.textContent = `Before you can certify (${problems.length}):`;
    const ul = document.createElement('ul');
    for (const text of problems.slice(0, 50)) {
      const li = document.createElement('li');
      li.textContent = text;
      ul.append(li);
    }
    missingBox.append(p, ul);
  }
  certifyButton.disabled = problems.length > 0;
}

if (certifyButton) {
  const dialog = document.getElementById('certify-dialog');
  const message = document.getElementById('certify-message');
  certifyButton.addEventListener('click', () => dialog.showModal());
  dialog.addEventListener('close', async () => {
    if (dialog.returnValue !== 'yes') return;
    certifyButton.disabled = true;
    let res = null;
    let body = {};
    try {
      res = await fetch(`/api/v1/categories/${cfg.category}/certification`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
        body: JSON.stringify({ step: 'JUDGE' }),
      });
      body = await res.json().catch(() => ({}));
    } catch (e) { /* shown below */ }
    if (res && res.ok) {
      window.location.reload();
      return;
    }
    message.hidden = false;
    message.textContent = res ? `Not certified: ${(body.error && body.error.message) || res.status}` : 'Not certified: the network is down. Try again when it is back.';
    certifyButton.disabled = false;
  });
}

function askSignIn() {
  const d = document.getElementById('signin-dialog');
  const n = loadQueue().items.length;
  document.getElementById('signin-text').textContent = `Your session has ended. ${n} ${n === 1 ? 'row is' : 'rows are'} safe on this device and will be sent after you sign in.`;
  document.getElementById('signin-again').href = `/signin?next=${encodeURIComponent(location.pathname)}`;
  if (!d.open) d.showModal();
}

// ---- start ----------------------------------------------------------------------------------

function restore() {
  const q = loadQueue();
  for (const [id, values] of Object.entries(q.drafts)) {
    const tr = rowById(id);
    if (!tr || readOnly) continue;
    inputsOf(tr).forEach((i, n) => { i.value = values[n] ?? i.value; });
    tr.dataset.dirty = '1';
  }
  for (const item of q.items) {
    const tr = rowById(item.contestant);
    if (!tr) continue;
    for (const s of item.scores) {
      const i = inputFor(tr, s.criterion_id);
      if (i) i.value = String(s.score);
    }
    if (item.state === 'refused') showRefused(tr, item.reason, item.field);
    else setRowState(tr, 'waiting');
  }
  rows.forEach((tr) => {
    const r = checkRow(tr);
    if (readOnly) setRowState(tr, 'locked');
    else if (tr.dataset.dirty === '1' && !q.items.some((i) => i.contestant === tr.dataset.contestant)) {
      setRowState(tr, r.problem ? 'invalid' : (r.filled ? 'incomplete' : 'empty'), r.problem ? r.problem.msg : r.left);
    } else if (!q.items.some((i) => i.contestant === tr.dataset.contestant) && tr.dataset.state === 'incomplete') {
      setRowState(tr, 'incomplete', r.left);
    } else markDone(tr);
  });
}

// ---- device report ----------------------------------------------------------------------------
// The tally master's board shows each judge's last contact and how many rows wait on the device, so
// that a tablet gone quiet is noticed before the category is short of scores.
async function reportDevice() {
  if (readOnly || !navigator.onLine) return;
  try {
    await fetch(`/api/v1/categories/${cfg.category}/device`, {
      method: 'PUT',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({ queued: loadQueue().items.length }),
    });
  } catch (e) { /* the next report will do */ }
}

// The offline copy of this page (a reload without network still shows the sheet). It needs a
// secure context (https or localhost); elsewhere the queue still keeps the rows.
// The worker keeps what it serves; this page was loaded before it ran, so it is put in its cache
// here (the same cache name as sw.js).
if ('serviceWorker' in navigator && window.caches) {
  const files = [location.pathname, ...Array.from(document.querySelectorAll('script[src], link[rel="stylesheet"], link[rel="icon"]'), (e) => e.src || e.href)];
  navigator.serviceWorker.register('/sw.js')
    .then(() => caches.open('em-judge-pages-v1'))
    .then((c) => c.addAll(files))
    .then(() => { document.body.dataset.offlineReady = '1'; })
    .catch(() => {});
}

restore();
layout();
updateStatus();
window.addEventListener('online', () => { backoff = 0; clearTimeout(retryTimer); pump(); reportDevice(); });
setInterval(reportDevice, 10000);
reportDevice();
window.addEventListener('offline', updateStatus);
document.addEventListener('visibilitychange', () => { if (!document.hidden) pump(); });
pump();
page.dataset.ready = '1'; // tests wait for it: keys typed before this reach no listener
