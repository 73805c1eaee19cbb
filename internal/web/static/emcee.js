// The emcee's reveal: one press shows the next place, from the last to the first.
const button = document.getElementById('reveal-next');
if (button) {
  const places = Array.from(document.querySelectorAll('#places .place'));
  let shown = 0;
  const update = () => {
    button.disabled = shown >= places.length;
    button.textContent = shown >= places.length ? 'All places revealed' : `Reveal ${places[shown].querySelector('.big').textContent.toLowerCase()}`;
  };
  button.addEventListener('click', () => {
    if (shown >= places.length) return;
    places[shown].hidden = false;
    shown += 1;
    update();
  });
  update();
}
