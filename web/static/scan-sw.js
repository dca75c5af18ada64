// Pass Tiers-Lieux door scanner's service worker (scope /scan): the page, its script, the QR
// decoder and the style open without network once loaded. Network first, so that a new
// version shows at once online; what the page judges with (keys, revocations, today's
// bookings) and its queue of waiting scans are kept by the page itself (localStorage).
const CACHE = "tl-scan-v1";
const KEPT = ["/scan", "/scan/jsqr.js", "/static/scanner.js", "/static/web.css", "/static/icon.svg"];

async function keep(cache, path, response) {
  // A redirect means "not signed in": never keep the sign-in page in place of the scanner.
  if (response.ok && !response.redirected) {
    await cache.put(path, response.clone());
  }
  return response;
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await Promise.all(
        KEPT.map(async (path) => {
          try {
            await keep(cache, path, await fetch(path, { credentials: "same-origin" }));
          } catch (error) {
            // Offline at install: the next online visit fills the cache.
          }
        }),
      );
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("tl-scan-") && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (!KEPT.includes(url.pathname)) return;
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      try {
        return await keep(cache, url.pathname, await fetch(event.request));
      } catch (error) {
        const kept = await cache.match(url.pathname);
        if (kept) return kept;
        throw error;
      }
    })(),
  );
});
