// The venue's big screen: read-only, opened by an unguessable link (no sign-in). It shows the
// running order and progress live, and results only once the board has certified; names and
// numbers only.
const token = new URLSearchParams(location.search).get('token') || '';
const title = document.getElementById('aud-title');
const status = document.getElementById('aud-status');
const box = document.getElementById('aud-categories');
const el = (tag, text, cls) => {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text;
  if (cls) e.className = cls;
  return e;
};
const who = (c) => (c.number == null ? c.name : `#${c.number} ${c.name}`);

function draw(view) {
  title.textContent = view.contest ? view.contest.name : 'Results';
  box.replaceChildren();
  for (const c of view.categories) {
    const sec = el('section', null, 'panel aud-category');
    sec.dataset.category = c.id;
    sec.append(el('h2', c.name));
    const p = c.progress;
    const prog = el('p', null, 'aud-progress');
    const bar = el('progress');
    bar.max = p.scores_expected || 1;
    bar.value = p.scores_entered;
    prog.append(bar, ` ${p.scores_entered} of ${p.scores_expected} scores · ${p.judges_certified} of ${p.judges} judges certified`);
    sec.append(prog);
    if (c.certified && c.results) {
      sec.append(el('h3', 'Results'));
      const ol = el('ol', null, 'order-list aud-results');
      for (const r of c.results) {
        const shared = c.results.filter((x) => x.rank === r.rank).length > 1;
        const li = el('li');
        li.append(el('span', shared ? `=${r.rank}` : String(r.rank), 'big'), ` ${who(r)} · ${Number(r.final_score)}`);
        ol.append(li);
      }
      sec.append(ol);
    } else {
      sec.append(el('h3', 'Running order'));
      const ol = el('ol', null, 'order-list aud-order');
      for (const r of c.running_order) ol.append(el('li', who(r)));
      sec.append(ol);
      sec.append(el('p', 'Results are shown here once the board has certified them.', 'hint'));
    }
    box.append(sec);
  }
}

async function load() {
  try {
    const res = await fetch(`/api/v1/audience?token=${encodeURIComponent(token)}`, { credentials: 'omit' });
    if (res.status === 404) {
      title.textContent = 'This screen link is not valid';
      status.textContent = 'It may have been withdrawn. Ask the organiser for a new link.';
      status.classList.add('paused');
      return false;
    }
    if (!res.ok) throw new Error(String(res.status));
    draw(await res.json());
    document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
    return true;
  } catch (e) {
    status.textContent = 'Cannot reach the server; retrying.';
    status.classList.add('paused');
    return true;
  }
}

let timer = null;
const soon = () => { clearTimeout(timer); timer = setTimeout(load, 150); };

load().then((ok) => {
  if (!ok) return;
  const es = new EventSource(`/api/v1/audience/stream?token=${encodeURIComponent(token)}`);
  es.addEventListener('open', () => { status.textContent = 'Live'; status.classList.remove('paused'); soon(); });
  es.addEventListener('error', () => { status.textContent = 'Live updates paused, retrying…'; status.classList.add('paused'); });
  es.addEventListener('message', soon);
  for (const kind of ['score', 'deduction', 'certification', 'assignment', 'resync']) es.addEventListener(kind, soon);
});
