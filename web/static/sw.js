// Pass Tiers-Lieux service worker (scope /): keeps "my pass" (page, QR code, style) for use
// without network. The door scanner has its own worker and caches ("tl-scan-*").
importScripts("/static/offline-cache.js");
keepOffline("tl-pass-v1", [
  "/agent/pass",
  "/agent/pass.svg",
  "/static/web.css",
  "/static/icon.svg",
  "/static/pass.js",
]);
