// The judges' offline copy. A judge who reloads the scoresheet (or opens it again) while the
// network is down gets the last copy this device loaded, and the queue kept in localStorage puts
// the unsent rows back on it. Only the judge's pages and the static files are kept; the copy is
// dropped when anyone opens the sign-in page (sign-out leads there), so that the next judge on a
// shared tablet never sees it.
const CACHE = 'em-judge-pages-v1';
const judgePage = /^\/judge(\/categories\/[0-9a-f-]{36})?$/;

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (e) => {
  const req = e.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.mode === 'navigate' && url.pathname === '/signin') {
    e.waitUntil(caches.delete(CACHE));
    return;
  }
  const page = req.mode === 'navigate' && judgePage.test(url.pathname);
  const asset = url.pathname.startsWith('/static/');
  if (!page && !asset) return;
  e.respondWith((async () => {
    const cache = await caches.open(CACHE);
    if (asset) {
      // Checksummed URLs never change: the cached copy is the file.
      const hit = await cache.match(req);
      if (hit) return hit;
      const res = await fetch(req);
      if (res.ok) await cache.put(req, res.clone());
      return res;
    }
    try {
      const res = await fetch(req);
      if (res.ok && !res.redirected) await cache.put(req, res.clone());
      return res;
    } catch (err) {
      const hit = await cache.match(req);
      if (hit) return hit;
      throw err;
    }
  })());
});
