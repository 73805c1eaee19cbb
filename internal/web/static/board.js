// The category board: judges' progress and certification, the results as the API computes them,
// deductions and the next certification step. A server-sent events stream says when something
// changed; the board then reads the new state from the JSON API, so it never shows more than the
// API would give this user.

const root = document.getElementById('board');
let state = JSON.parse(root.dataset.initial);
const csrf = document.body.dataset.csrf;
const id = state.category;
const stepRoles = { TALLY_MASTER: 'TALLY_MASTER', AUDITOR: 'AUDITOR', BOARD: 'BOARD' };
const steps = ['JUDGE', 'TALLY_MASTER', 'AUDITOR', 'BOARD'];
const words = (s) => s.toLowerCase().replace('_', ' ');
const el = (tag, text, cls) => {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text;
  if (cls) e.className = cls;
  return e;
};
const num = (s) => (s === null || s === undefined ? '' : String(Number(s)));
// In the venue's time zone, as the server-rendered pages (named in the footer).
const timeOf = (iso) => (iso ? new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false, timeZone: document.body.dataset.zone }) : '');

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body ? { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = res.status === 204 ? {} : await res.json().catch(() => ({}));
  if (res.status === 401) {
    window.location.href = `/signin?next=${encodeURIComponent(location.pathname)}`;
  }
  return { ok: res.ok, status: res.status, data };
}

// ---- drawing --------------------------------------------------------------------------------

let previous = null; // the last drawn figures per row, to highlight what changed

// devicesAt is when the devices' ages were read: the strip ages them by the local clock between
// reads, from the database's own figure (a device clock that is off does not matter).
let devicesAt = Date.now();

function ago(seconds) {
  if (seconds < 60) return `${Math.round(seconds)} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

function drawJudges() {
  const ul = document.getElementById('judges');
  ul.replaceChildren();
  const devices = Object.fromEntries((state.devices || []).map((d) => [d.judge_id, d]));
  for (const j of state.certification.judges) {
    const li = el('li', null, 'judge');
    li.dataset.judge = j.judge_id;
    li.append(el('strong', j.name));
    li.append(el('span', `${j.scores_filled}/${j.scores_required} scores`, 'progress-text'));
    li.append(document.createTextNode(' · '));
    li.append(el('span', j.certified ? `certified ${timeOf(j.certified_at)}` : 'not certified', j.certified ? 'badge ok' : 'badge'));
    const d = devices[j.judge_id];
    const dev = el('span', null, 'device');
    if (!d || d.age_seconds == null) dev.textContent = 'Device: not heard from yet';
    else {
      const age = d.age_seconds + (Date.now() - devicesAt) / 1000;
      dev.textContent = `Device: last contact ${ago(age)}${d.queued ? `, ${d.queued} ${d.queued === 1 ? 'row' : 'rows'} waiting on it` : ''}`;
      if (age > 120) dev.classList.add('lost');
      else if (age > 30 || d.queued) dev.classList.add('late');
    }
    dev.dataset.queued = d && d.queued != null ? String(d.queued) : '';
    li.append(dev);
    ul.append(li);
  }
  if (!state.certification.judges.length) ul.append(el('li', 'No judge is assigned yet.'));
}

function rankText(row, all) {
  const shared = all.filter((r) => r.rank === row.rank).length > 1;
  return shared ? `=${row.rank}` : String(row.rank);
}

function drawResults() {
  const t = document.getElementById('results');
  const res = state.results;
  document.getElementById('scoring-type').textContent = res.scoring_type === 'OLYMPIC'
    ? 'Olympic scoring: each contestant\'s highest and lowest judge totals are dropped (struck through).'
    : 'Straight scoring: every judge\'s total counts.';
  const judges = [];
  for (const c of res.contestants) for (const j of c.judges) if (!judges.some((x) => x.judge_id === j.judge_id)) judges.push(j);
  const head = el('tr');
  for (const h of ['Rank', 'No.', 'Contestant']) head.append(el('th', h));
  for (const j of judges) head.append(el('th', j.name, 'num judge'));
  head.append(el('th', 'Total', 'num'), el('th', 'Deductions', 'num deductions'), el('th', 'Final', 'num'));
  t.tHead.replaceChildren(head);
  const body = el('tbody');
  const now = {};
  for (const c of res.contestants) {
    const tr = el('tr');
    tr.dataset.contestant = c.contestant_id;
    tr.append(el('td', rankText(c, res.contestants), 'rank'));
    tr.append(el('td', c.number == null ? '' : `#${c.number}`));
    tr.append(el('th', c.name));
    for (const j of judges) {
      const mine = c.judges.find((x) => x.judge_id === j.judge_id);
      const td = el('td', null, 'num judge');
      if (mine) {
        if (mine.counted) td.textContent = num(mine.total);
        else {
          td.append(el('s', num(mine.total)));
          td.append(el('span', ' (dropped)', 'sr-only'));
        }
      } else td.textContent = '–';
      tr.append(td);
    }
    tr.append(el('td', num(c.total), 'num'));
    tr.append(el('td', Number(c.deductions) ? `−${num(c.deductions)}` : '', 'num deductions'));
    tr.append(el('td', num(c.final_score), 'num final'));
    const sig = JSON.stringify([c.rank, c.total, c.deductions, c.judges]);
    now[c.contestant_id] = sig;
    if (previous && previous[c.contestant_id] !== sig) tr.classList.add('flash');
    body.append(tr);
  }
  if (!res.contestants.length) body.append(el('tr')).append(el('td', 'No contestants yet.'));
  t.tBodies[0].replaceWith(body);
  previous = now;
}

function drawDeductions() {
  const ul = document.getElementById('deductions');
  ul.replaceChildren();
  const names = Object.fromEntries(state.results.contestants.map((c) => [c.contestant_id, c.number == null ? c.name : `#${c.number} ${c.name}`]));
  for (const d of state.deductions) ul.append(el('li', `${names[d.contestant_id] || 'contestant'}: −${num(d.amount)} (${d.reason})`));
  if (!state.deductions.length) ul.append(el('li', 'None.'));
  const form = document.getElementById('deduction-form');
  const locked = state.certification.steps.some((s) => s.step === 'TALLY_MASTER' && s.certified);
  form.hidden = !state.can_deduct || locked;
  const sel = document.getElementById('ded-contestant');
  const keep = sel.value;
  sel.replaceChildren(...state.results.contestants.map((c) => {
    const o = el('option', names[c.contestant_id]);
    o.value = c.contestant_id;
    return o;
  }));
  if (keep) sel.value = keep;
}

function drawCertification() {
  const cert = state.certification;
  const judgesDone = cert.judges.length > 0 && cert.judges.every((j) => j.certified);
  const ol = document.getElementById('steps');
  ol.replaceChildren();
  for (const s of steps) {
    const done = s === 'JUDGE' ? judgesDone : cert.steps.some((x) => x.step === s && x.certified);
    const li = el('li', `${words(s)}${done ? ' ✓' : ''}`, done ? 'done' : '');
    ol.append(li);
  }
  const next = cert.next_step;
  const button = document.getElementById('certify-step');
  const text = document.getElementById('next-step-text');
  button.hidden = true;
  if (!next) text.textContent = 'The board has certified this category. Results are final.';
  else if (next === 'JUDGE') {
    const waiting = cert.judges.filter((j) => !j.certified).map((j) => j.name);
    text.textContent = waiting.length ? `Waiting for the judges to certify: ${waiting.join(', ')}.` : 'No judge is assigned yet.';
  } else if (stepRoles[next] === state.role) {
    text.textContent = `Next: the ${words(next)} certifies.`;
    button.hidden = false;
    button.textContent = `Certify as ${words(next)}`;
    button.dataset.step = next;
  } else text.textContent = `Next: the ${words(next)} certifies.`;
  const anyCert = judgesDone || cert.judges.some((j) => j.certified) || cert.steps.some((x) => x.certified);
  document.getElementById('revoke-form').hidden = !state.can_revoke || !anyCert;
}

function draw() {
  drawJudges();
  drawResults();
  drawDeductions();
  drawCertification();
}

// ---- refresh and live -----------------------------------------------------------------------

let refreshing = false;
let again = false;

async function refresh() {
  if (refreshing) { again = true; return; }
  refreshing = true;
  try {
    const [res, cert, ded, dev] = await Promise.all([
      api('GET', `/api/v1/results/categories/${id}`),
      api('GET', `/api/v1/categories/${id}/certification`),
      api('GET', `/api/v1/categories/${id}/deductions?limit=100`),
      api('GET', `/api/v1/categories/${id}/devices`),
    ]);
    if (dev.ok) { state.devices = dev.data.data; devicesAt = Date.now(); }
    if (res.ok) state.results = res.data;
    if (cert.ok) state.certification = cert.data;
    if (ded.ok) state.deductions = ded.data.data;
    draw();
    root.dataset.refreshed = String(Number(root.dataset.refreshed || 0) + 1);
  } catch (e) {
    setBanner(false, 'Could not reach the server; retrying.');
  } finally {
    refreshing = false;
    if (again) { again = false; refresh(); }
  }
}

const banner = document.getElementById('live-banner');
function setBanner(live, text) {
  banner.classList.toggle('paused', !live);
  banner.textContent = text;
  banner.dataset.live = live ? '1' : '0';
}

let timer = null;
function soon() {
  clearTimeout(timer);
  timer = setTimeout(refresh, 100);
}

if (state.live) {
  const es = new EventSource(`/api/v1/categories/${id}/stream`);
  let opened = false;
  es.addEventListener('open', () => {
    setBanner(true, 'Live: changes appear here as they happen.');
    if (opened) refresh(); // catch up on what happened while the stream was down
    opened = true;
  });
  es.addEventListener('error', () => setBanner(false, 'Live updates paused, retrying… The figures below may be out of date.'));
  es.addEventListener('message', soon);
  for (const kind of ['score', 'deduction', 'certification', 'assignment', 'device', 'resync']) es.addEventListener(kind, soon);
} else setBanner(false, 'Live updates are off on this server: reload to see changes.');

// ---- actions --------------------------------------------------------------------------------

const dialog = document.getElementById('confirm-dialog');
function confirmThen(text, action) {
  document.getElementById('confirm-text').textContent = text;
  dialog.returnValue = '';
  dialog.showModal();
  dialog.addEventListener('close', () => { if (dialog.returnValue === 'yes') action(); }, { once: true });
}

function say(id, text) {
  const m = document.getElementById(id);
  m.hidden = !text;
  m.textContent = text || '';
}

document.getElementById('certify-step').addEventListener('click', (e) => {
  const step = e.currentTarget.dataset.step;
  confirmThen(`Certify ${state.results.name} as ${words(step)}? You certify the results shown on this page.`, async () => {
    const r = await api('POST', `/api/v1/categories/${id}/certification`, { step });
    say('cert-message', r.ok ? '' : `Not certified: ${r.data.error ? r.data.error.message : r.status}`);
    refresh();
  });
});

document.getElementById('revoke-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const reason = document.getElementById('revoke-reason').value.trim();
  if (!reason) return;
  confirmThen(`Withdraw the latest certification of ${state.results.name}? This reopens it. Reason: ${reason}`, async () => {
    const r = await api('DELETE', `/api/v1/categories/${id}/certification`, { reason });
    say('cert-message', r.ok ? 'Certification withdrawn.' : `Not withdrawn: ${r.data.error ? r.data.error.message : r.status}`);
    if (r.ok) document.getElementById('revoke-reason').value = '';
    refresh();
  });
});

document.getElementById('deduction-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const amount = document.getElementById('ded-amount').value.trim().replace(',', '.');
  if (!/^\d{1,6}(\.\d{1,2})?$/.test(amount) || Number(amount) <= 0) {
    say('ded-message', 'Points: type a number greater than 0, such as 2 or 0.5.');
    return;
  }
  const r = await api('POST', `/api/v1/categories/${id}/deductions`, {
    contestant_id: document.getElementById('ded-contestant').value,
    amount: Number(amount),
    reason: document.getElementById('ded-reason').value.trim(),
  });
  say('ded-message', r.ok ? '' : `Not added: ${r.data.error ? r.data.error.message : r.status}`);
  if (r.ok) {
    document.getElementById('ded-amount').value = '';
    document.getElementById('ded-reason').value = '';
  }
  refresh();
});

draw();
// The devices' "last contact" ages while nothing happens.
setInterval(drawJudges, 5000);
