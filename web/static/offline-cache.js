// What the pages' service workers share: keep a few pages and files for use without network.
// Network first, so that a new version (a revoked pass, a new scanner) shows as soon as the
// device is online; the cached copy is only for when the network is gone.
// `keepOffline("tl-pass-v1", [...paths])`: older versions of the same cache ("tl-pass-v0") are
// dropped, other workers' caches are left alone.
function keepOffline(cacheName, kept) {
  const prefix = cacheName.replace(/v\d+$/, "");

  async function keep(cache, path, response) {
    // A redirect means "not signed in": never keep the sign-in page in place of the page.
    if (response.ok && !response.redirected) {
      await cache.put(path, response.clone());
    }
    return response;
  }

  self.addEventListener("install", (event) => {
    event.waitUntil(
      (async () => {
        const cache = await caches.open(cacheName);
        await Promise.all(
          kept.map(async (path) => {
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
          if (name.startsWith(prefix) && name !== cacheName) await caches.delete(name);
        }
        await self.clients.claim();
      })(),
    );
  });

  self.addEventListener("fetch", (event) => {
    const url = new URL(event.request.url);
    if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
    if (!kept.includes(url.pathname)) return;
    event.respondWith(
      (async () => {
        const cache = await caches.open(cacheName);
        try {
          return await keep(cache, url.pathname, await fetch(event.request));
        } catch (error) {
          const cached = await cache.match(url.pathname);
          if (cached) return cached;
          throw error;
        }
      })(),
    );
  });
}
