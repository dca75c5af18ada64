// Pass Tiers-Lieux service worker: keeps "my pass" (page, QR code, style) for use without network.
// Network first, so that a revoked or reissued pass shows as soon as the phone is online;
// the copy in the cache is only for when the network is gone.
const CACHE = "tl-pass-v1";
const KEPT = ["/agent/pass", "/agent/pass.svg", "/static/web.css", "/static/icon.svg"];

async function keep(cache, url, response) {
  // A redirect means "not signed in": never keep the sign-in page in place of the pass.
  if (response.ok && !response.redirected) {
    await cache.put(url, response.clone());
  }
  return response;
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await Promise.all(
        KEPT.map(async (url) => {
          try {
            await keep(cache, url, await fetch(url, { credentials: "same-origin" }));
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
        // Only its own old versions: the door scanner keeps "tl-scan-*" caches.
        if (name.startsWith("tl-pass-") && name !== CACHE) await caches.delete(name);
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
