// Status page: signs in, polls the snapshot every 2 s, keeps the last 5 minutes in memory and
// draws them as inline SVG. No library, no build step; every text is set with textContent.
'use strict';

(() => {
  const DATA_URL = '/api/v1/admin/status/data';
  const TOKEN_KEY = 'eventmanager.status.token';
  const WHO_KEY = 'eventmanager.status.who';
  // Set when the page signed in itself: only such a session is ended on the server by the page;
  // a pasted token may be in use elsewhere.
  const OWN_KEY = 'eventmanager.status.own';
  const POLL_MS = 2000;
  const MAX_SPAN_MS = 5 * 60 * 1000; // what the charts show at most
  const MIN_SPAN_MS = 4 * POLL_MS; // the first few points are not stretched across the width
  const CLASSES = ['simple', 'standard', 'complex', 'report'];
  const COLORS = {
    blue: '#2563eb', violet: '#7c3aed', amber: '#d97706', red: '#dc2626',
    p50: '#7fb2f0', p95: '#2563eb', p99: '#1e2f73', warn: '#d69e2e', fail: '#e05252',
  };
  const SVG = 'http://www.w3.org/2000/svg';

  const $ = (id) => document.getElementById(id);
  let rows = []; // one per snapshot: {t, util, wait, rps, c4xx, c5xx, lat: {class: {p50, p95, p99}}}
  let last = null; // the latest snapshot
  let timer = null;
  let polling = false;

  // Chart definitions: what each series reads from a row, and the headline figures.
  const charts = [
    {
      id: 'chart-pool', title: 'Pool utilisation', unit: '%', fixedMax: 100,
      thresholds: [{ v: 70, color: COLORS.warn, label: 'warn' }, { v: 90, color: COLORS.fail, label: 'fail' }],
      series: [{ label: 'connections in use', color: COLORS.blue, get: (r) => r.util, area: true }],
      value: (s) => pct(s.pool.utilisation),
      sub: (s) => `${s.pool.acquired} of ${s.pool.max} in use · ${s.pool.idle} idle · ${s.pool.total} open`,
    },
    {
      id: 'chart-wait', title: 'Connection acquire wait', unit: 'ms',
      series: [{ label: 'mean wait per acquire', color: COLORS.violet, get: (r) => r.wait }],
      value: () => fmtMs(latestOf((r) => r.wait)),
      sub: (s) => `${fmtRate(latestOf((r) => r.acq))} acquires/s · ${s.pool.waited_count} had to wait since start`,
    },
    {
      id: 'chart-requests', title: 'Requests', unit: '/s',
      series: [
        { label: 'requests/s', color: COLORS.blue, get: (r) => r.rps },
        { label: '4xx/s', color: COLORS.amber, get: (r) => r.c4xx },
        { label: '5xx/s', color: COLORS.red, get: (r) => r.c5xx },
      ],
      value: () => `${fmtRate(latestOf((r) => r.rps))}/s`,
      sub: (s) => `${s.requests.requests} since start · ${s.requests.client_errors} 4xx · ${s.requests.server_errors} 5xx`,
    },
    ...CLASSES.map((c) => ({
      id: `chart-latency-${c}`, title: `${c[0].toUpperCase()}${c.slice(1)} queries`, unit: 'ms',
      empty: 'no queries in the last 5 minutes',
      series: [
        { label: 'P50', color: COLORS.p50, get: (r) => r.lat[c] && r.lat[c].p50 },
        { label: 'P95', color: COLORS.p95, get: (r) => r.lat[c] && r.lat[c].p95 },
        { label: 'P99', color: COLORS.p99, get: (r) => r.lat[c] && r.lat[c].p99 },
      ],
      value: (s) => {
        const l = latencyOf(s, c);
        return l && l.count > 0 ? `P95 ${fmtMs(l.p95_ms)}` : '–';
      },
      sub: (s) => {
        const l = latencyOf(s, c);
        return l ? `${l.count} queries · ${l.timeouts} timed out` : '';
      },
    })),
  ];

  // ---- formatting ----
  function pct(f) { return `${(f * 100).toFixed(0)} %`; }
  function fmtMs(v) {
    if (v == null || Number.isNaN(v)) return '–';
    if (v >= 1000) return `${(v / 1000).toFixed(2)} s`;
    if (v >= 100) return `${v.toFixed(0)} ms`;
    if (v >= 10) return `${v.toFixed(1)} ms`;
    if (v >= 1) return `${v.toFixed(2)} ms`;
    return `${(v * 1000).toFixed(0)} µs`;
  }
  // Axis labels: three significant digits, no trailing zeros.
  function short(v) { return String(Number(v.toPrecision(3))); }
  function fmtRate(v) {
    if (v == null || Number.isNaN(v)) return '–';
    return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  }
  function fmtAxis(v, unit) {
    if (v === 0) return '0';
    if (unit === 'ms') {
      if (v >= 1000) return `${short(v / 1000)} s`;
      return v >= 1 ? `${short(v)} ms` : `${short(v * 1000)} µs`;
    }
    if (unit === '%') return `${short(v)} %`;
    return short(v);
  }
  function clock(iso) {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? '' : `${d.toISOString().slice(11, 19)} UTC`;
  }
  function latencyOf(s, c) { return (s.latency || []).find((l) => l.class === c); }
  function latestOf(get) {
    for (let i = rows.length - 1; i >= 0; i--) {
      const v = get(rows[i]);
      if (v != null) return v;
    }
    return null;
  }

  // ---- snapshots to rows ----
  // Counters become rates over the interval between two snapshots; a counter that went down
  // (the server restarted) gives no rate for that interval.
  function toRow(s, p) {
    const row = { t: new Date(s.time).getTime(), util: s.pool.utilisation * 100, lat: {} };
    for (const c of CLASSES) {
      const l = latencyOf(s, c);
      if (l && l.count > 0) row.lat[c] = { p50: l.p50_ms, p95: l.p95_ms, p99: l.p99_ms };
    }
    if (p) {
      const dt = (row.t - new Date(p.time).getTime()) / 1000;
      const d = (a, b) => (a >= b && dt > 0 ? (a - b) / dt : null);
      row.rps = d(s.requests.requests, p.requests.requests);
      row.c4xx = d(s.requests.client_errors, p.requests.client_errors);
      row.c5xx = d(s.requests.server_errors, p.requests.server_errors);
      row.acq = d(s.pool.acquire_count, p.pool.acquire_count);
      const n = s.pool.acquire_count - p.pool.acquire_count;
      const secs = s.pool.acquire_seconds - p.pool.acquire_seconds;
      row.wait = n > 0 && secs >= 0 ? (secs / n) * 1000 : n === 0 ? 0 : null;
    }
    return row;
  }

  // ---- drawing ----
  function el(tag, attrs, parent) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (parent) parent.appendChild(e);
    return e;
  }

  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = 10 ** Math.floor(Math.log10(v));
    for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  function setupChart(def) {
    const fig = $(def.id);
    fig.replaceChildren();
    const head = document.createElement('div');
    head.className = 'chart-head';
    const title = document.createElement('span');
    title.className = 'chart-title';
    title.textContent = def.title;
    def.valueEl = document.createElement('span');
    def.valueEl.className = 'chart-value';
    head.append(title, def.valueEl);
    def.subEl = document.createElement('div');
    def.subEl.className = 'chart-sub';
    def.svg = el('svg', { role: 'img', 'aria-label': def.title });
    const legend = document.createElement('div');
    legend.className = 'legend';
    for (const s of def.series) {
      const item = document.createElement('span');
      const sw = document.createElement('i');
      sw.style.background = s.color; // CSSOM, allowed by the style-src policy
      item.append(sw, s.label);
      legend.append(item);
    }
    fig.append(head, def.subEl, def.svg, legend);
  }

  function drawChart(def) {
    const svg = def.svg;
    svg.replaceChildren();
    const W = Math.max(svg.clientWidth || 300, 120);
    const H = svg.clientHeight || 150;
    svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    const pad = { l: 46, r: 8, t: 8, b: 18 };
    const pw = W - pad.l - pad.r;
    const ph = H - pad.t - pad.b;

    const now = rows.length ? rows[rows.length - 1].t : Date.now();
    const first = rows.length ? rows[0].t : now;
    const span = Math.min(MAX_SPAN_MS, Math.max(MIN_SPAN_MS, now - first));
    const visible = rows.filter((r) => r.t >= now - span);
    let top = 0;
    let points = 0;
    for (const [i, s] of def.series.entries()) {
      for (const r of visible) {
        const v = s.get(r);
        if (v == null) continue;
        top = Math.max(top, v);
        if (i === 0) points++;
      }
    }
    for (const th of def.thresholds || []) top = Math.max(top, th.v);
    const ymax = def.fixedMax || niceMax(top * 1.1);
    const x = (t) => pad.l + (1 - (now - t) / span) * pw;
    const y = (v) => pad.t + ph - (Math.min(v, ymax) / ymax) * ph;

    // An empty chart keeps only its base line, so that its message stands alone.
    for (const f of points ? [0, 0.5, 1] : [0]) {
      const v = ymax * f;
      el('line', { class: 'grid-line', x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v) }, svg);
      const label = el('text', { x: pad.l - 6, y: y(v) + 4, 'text-anchor': 'end' }, svg);
      label.textContent = fmtAxis(v, def.unit);
    }
    for (const th of def.thresholds || []) {
      el('line', { class: 'threshold', stroke: th.color, x1: pad.l, x2: W - pad.r, y1: y(th.v), y2: y(th.v) }, svg);
      const label = el('text', { class: `threshold-label ${th.label}`, x: W - pad.r - 2, y: y(th.v) - 3, 'text-anchor': 'end' }, svg);
      label.textContent = `${th.label} ${th.v} %`;
    }
    const secs = Math.round(span / 1000);
    const left = el('text', { x: pad.l, y: H - 3 }, svg);
    left.textContent = secs >= 120 ? `−${Math.round(secs / 60)} min` : `−${secs} s`;
    const right = el('text', { x: W - pad.r, y: H - 3, 'text-anchor': 'end' }, svg);
    right.textContent = 'now';

    for (const s of def.series) {
      // Segments of consecutive values; a missing value breaks the line.
      const segments = [];
      let seg = [];
      for (const r of visible) {
        const v = s.get(r);
        if (v == null) {
          if (seg.length) segments.push(seg);
          seg = [];
          continue;
        }
        seg.push([x(r.t), y(v)]);
      }
      if (seg.length) segments.push(seg);
      for (const pts of segments) {
        const d = pts.map((p, i) => `${i ? 'L' : 'M'}${p[0].toFixed(1)},${p[1].toFixed(1)}`).join('');
        if (s.area && pts.length > 1) {
          const base = y(0).toFixed(1);
          el('path', { class: 'area', fill: s.color, d: `${d}L${pts[pts.length - 1][0].toFixed(1)},${base}L${pts[0][0].toFixed(1)},${base}Z` }, svg);
        }
        if (pts.length === 1) {
          el('circle', { cx: pts[0][0], cy: pts[0][1], r: 2.5, fill: s.color }, svg);
        } else {
          el('path', { class: 'series', stroke: s.color, d }, svg);
        }
      }
    }
    if (points === 0) {
      const t = el('text', { class: 'empty', x: pad.l + pw / 2, y: pad.t + ph / 2, 'text-anchor': 'middle' }, svg);
      t.textContent = rows.length === 0 || !def.empty ? 'waiting for data…' : def.empty;
    }
    // For tests and for the curious: how many samples the chart shows.
    $(def.id).dataset.points = String(points);
    if (last) {
      def.valueEl.textContent = def.value(last);
      def.subEl.textContent = def.sub(last);
    }
  }

  function drawAll() { for (const def of charts) drawChart(def); }

  // ---- health ----
  const RANK = { fail: 0, warn: 1, ok: 2 };
  const openLists = new Set(); // lists the reader unfolded stay so across refreshes

  function drawHealth(report) {
    const banner = $('banner');
    const checks = report.checks || [];
    const bad = (st) => checks.filter((c) => c.status === st).map((c) => c.name);
    const fails = bad('fail');
    const warns = bad('warn');
    banner.dataset.status = report.status;
    $('banner-title').textContent = { healthy: 'Healthy', degraded: 'Degraded', unhealthy: 'Unhealthy' }[report.status] || report.status;
    const parts = [];
    if (fails.length) parts.push(`${fails.length} failing: ${fails.join(', ')}`);
    if (warns.length) parts.push(`${warns.length} warning${warns.length > 1 ? 's' : ''}: ${warns.join(', ')}`);
    if (!parts.length) parts.push(`all ${checks.length} database checks pass`);
    $('banner-detail').textContent = parts.join(' · ');
    $('checked-at').textContent = `(checked ${clock(report.checked_at)}, at most every 5 s)`;

    const sorted = checks.map((c, i) => [c, i]).sort((a, b) => (RANK[a[0].status] - RANK[b[0].status]) || (a[1] - b[1]));
    const body = $('checks').tBodies[0];
    const trs = sorted.map(([c]) => {
      const tr = document.createElement('tr');
      tr.dataset.status = c.status;
      const status = document.createElement('td');
      const pill = document.createElement('span');
      pill.className = `pill ${c.status}`;
      pill.textContent = c.status;
      status.append(pill);
      const name = document.createElement('td');
      name.className = 'name';
      name.textContent = c.name;
      const expl = document.createElement('td');
      expl.textContent = c.explanation;
      if (c.items && c.items.length) {
        // Lists are folded unless the check needs attention.
        const details = document.createElement('details');
        details.open = c.status !== 'ok' || openLists.has(c.name);
        details.addEventListener('toggle', () => (details.open ? openLists.add(c.name) : openLists.delete(c.name)));
        const summary = document.createElement('summary');
        summary.textContent = `${c.items.length} listed`;
        const ul = document.createElement('ul');
        for (const it of c.items) {
          const li = document.createElement('li');
          li.textContent = it;
          ul.append(li);
        }
        details.append(summary, ul);
        expl.append(details);
      }
      const th = document.createElement('td');
      th.className = 'threshold';
      th.textContent = c.threshold;
      tr.append(status, name, expl, th);
      return tr;
    });
    body.replaceChildren(...trs);
  }

  // ---- data ----
  async function poll() {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) return showSignIn();
    polling = true;
    try {
      const res = await fetch(DATA_URL, { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' });
      if (res.status === 401) return signedOut('Your session has ended or the token is not valid: sign in again.');
      if (res.status === 403) {
        endOwnSession(token); // of no use here: do not leave it open on the server
        return signedOut('This account may not see the status page, which shows the whole platform: sign in as the operator (SUPER_ADMIN).');
      }
      if (!res.ok) throw new Error(`${res.status} ${await errorMessage(res)}`);
      const snap = await res.json();
      rows.push(toRow(snap, last));
      const cutoff = rows[rows.length - 1].t - MAX_SPAN_MS;
      while (rows.length && rows[0].t < cutoff) rows.shift();
      last = snap;
      $('poll-message').hidden = true;
      $('updated').textContent = `updated ${clock(snap.time)}`;
      drawHealth(snap.health);
      drawAll();
    } catch (err) {
      const m = $('poll-message');
      m.textContent = `Could not load the status data (${err.message}); retrying every ${POLL_MS / 1000} s. The figures below are from ${last ? clock(last.time) : 'nowhere yet'}.`;
      m.hidden = false;
    } finally {
      polling = false;
    }
    if (sessionStorage.getItem(TOKEN_KEY)) timer = setTimeout(poll, POLL_MS);
  }

  async function errorMessage(res) {
    try {
      const body = await res.json();
      return (body.error && body.error.message) || res.statusText;
    } catch {
      return res.statusText;
    }
  }

  // ---- sign-in ----
  function showMessage(text, kind) {
    const m = $('signin-message');
    m.textContent = text || '';
    m.dataset.kind = kind || 'error';
    m.hidden = !text;
  }

  function showSignIn(message, kind) {
    clearTimeout(timer);
    $('dashboard').hidden = true;
    $('signout').hidden = true;
    $('identity').textContent = '';
    $('updated').textContent = '';
    $('signin').hidden = false;
    showMessage(message, kind);
    ($('tenant').value ? $('email').value ? $('password') : $('email') : $('tenant')).focus();
  }

  function signedOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(OWN_KEY);
    sessionStorage.removeItem(WHO_KEY);
    showSignIn(message);
  }

  function start() {
    $('signin').hidden = true;
    $('dashboard').hidden = false;
    $('signout').hidden = false;
    $('identity').textContent = sessionStorage.getItem(WHO_KEY) || '';
    rows = [];
    last = null;
    for (const def of charts) setupChart(def);
    drawAll();
    clearTimeout(timer);
    if (!polling) poll();
  }

  async function login(ev) {
    ev.preventDefault();
    const button = $('login-button');
    button.disabled = true;
    showMessage('');
    try {
      const res = await fetch('/api/v1/auth/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ tenant: $('tenant').value.trim(), email: $('email').value.trim(), password: $('password').value }),
      });
      if (!res.ok) {
        const msg = res.status === 401 ? 'Sign-in failed: the tenant, email or password is wrong.' : `Sign-in failed: ${await errorMessage(res)}.`;
        return showMessage(msg);
      }
      const sess = await res.json();
      $('password').value = '';
      sessionStorage.setItem(TOKEN_KEY, sess.token);
      sessionStorage.setItem(OWN_KEY, '1');
      sessionStorage.setItem(WHO_KEY, sess.user ? `${sess.user.email} · ${sess.user.role}` : '');
      start();
    } catch (err) {
      showMessage(`Sign-in failed: ${err.message}`);
    } finally {
      button.disabled = false;
    }
  }

  async function useToken(ev) {
    ev.preventDefault();
    const token = $('token').value.trim();
    $('token').value = '';
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.removeItem(OWN_KEY);
    sessionStorage.setItem(WHO_KEY, 'pasted token');
    start();
    // Name the account; a bad token shows up at the first poll.
    try {
      const res = await fetch('/api/v1/auth/me', { headers: { Authorization: `Bearer ${token}` } });
      if (res.ok) {
        const u = await res.json();
        sessionStorage.setItem(WHO_KEY, `${u.email} · ${u.role}`);
        $('identity').textContent = sessionStorage.getItem(WHO_KEY);
      }
    } catch { /* the poll reports it */ }
  }

  function signOut() {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) endOwnSession(token);
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(WHO_KEY);
    showSignIn('Signed out.', 'info');
  }

  // Ends the session on the server too when the page opened it (a pasted token is left alone); the
  // page is signed out whatever the answer.
  function endOwnSession(token) {
    const own = sessionStorage.getItem(OWN_KEY) === '1';
    sessionStorage.removeItem(OWN_KEY);
    if (!own) return;
    fetch('/api/v1/auth/logout', { method: 'POST', headers: { Authorization: `Bearer ${token}` } }).catch(() => {});
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', login);
    $('token-form').addEventListener('submit', useToken);
    $('signout').addEventListener('click', signOut);
    let resize = null;
    window.addEventListener('resize', () => {
      clearTimeout(resize);
      resize = setTimeout(() => { if (!$('dashboard').hidden) drawAll(); }, 100);
    });
    if (sessionStorage.getItem(TOKEN_KEY)) start();
    else showSignIn();
  });
})();
