// The organiser's judges' sign-in page: one press makes a fresh one-time link for a judge and shows
// its QR code (drawn by the server); another withdraws it.
const csrf = document.body.dataset.csrf;

async function call(method, path) {
  const res = await fetch(path, { method, credentials: 'same-origin', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf } });
  const data = await res.json().catch(() => ({}));
  return { ok: res.ok, status: res.status, data };
}

document.getElementById('judge-list').addEventListener('click', async (e) => {
  const button = e.target.closest('button[data-action]');
  if (!button) return;
  const card = button.closest('.card');
  const figure = card.querySelector('figure.qr');
  const revoke = card.querySelector('button[data-action="revoke-link"]');
  const message = card.querySelector('.message');
  const say = (text) => { message.hidden = !text; message.textContent = text || ''; };
  button.disabled = true;
  if (button.dataset.action === 'new-link') {
    const r = await call('POST', `/api/v1/judges/${button.dataset.judge}/sign-in-links`);
    button.disabled = false;
    if (!r.ok) { say(`No code: ${r.data.error ? r.data.error.message : r.status}`); return; }
    figure.querySelector('img').src = r.data.qr_url;
    const until = new Date(r.data.expires_at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false, timeZone: document.body.dataset.zone });
    const caption = figure.querySelector('figcaption');
    caption.replaceChildren();
    const link = document.createElement('a');
    link.href = r.data.url;
    link.textContent = 'sign-in link';
    link.className = 'signin-link';
    caption.append(`${button.dataset.name}: scan before ${until}, once. Or open this `, link, '.');
    figure.hidden = false;
    revoke.hidden = false;
    revoke.dataset.link = r.data.id;
    say('');
    button.textContent = 'Show a new QR code';
  } else {
    const r = await call('DELETE', `/api/v1/sign-in-links/${button.dataset.link}`);
    button.disabled = false;
    if (!r.ok) { say(`Not withdrawn: ${r.data.error ? r.data.error.message : r.status}`); return; }
    figure.hidden = true;
    revoke.hidden = true;
    say('The code was withdrawn.');
  }
});
