// The organiser's big-screen links: one press makes a read-only, revocable link for the venue's
// screen (no sign-in; names and numbers only; results once the board has certified).
const csrf = document.body.dataset.csrf;
const list = document.getElementById('category-list');
list.addEventListener('click', async (e) => {
  const button = e.target.closest('button[data-action="screen-link"]');
  if (!button) return;
  const card = button.closest('.card');
  const figure = card.querySelector('figure.qr');
  const message = card.querySelector('.message');
  button.disabled = true;
  const res = await fetch(`/api/v1/categories/${button.dataset.category}/audience-links`, {
    method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
  });
  const data = await res.json().catch(() => ({}));
  button.disabled = false;
  if (!res.ok) {
    message.hidden = false;
    message.textContent = `No link: ${data.error ? data.error.message : res.status}`;
    return;
  }
  figure.querySelector('img').src = data.qr_url;
  const a = document.createElement('a');
  a.href = data.url;
  a.textContent = 'Open the big screen';
  a.className = 'screen-link';
  figure.querySelector('figcaption').replaceChildren(a, ' (anyone with this link can watch: withdraw it after the show).');
  figure.hidden = false;
});
