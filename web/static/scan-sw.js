// Pass Tiers-Lieux door scanner's service worker (scope /scan): the page, its script, the QR
// decoder and the style open without network once loaded. What the page judges with (keys,
// revocations, today's bookings) and its queue of waiting scans are kept by the page itself
// (localStorage).
importScripts("/static/offline-cache.js");
keepOffline("tl-scan-v1", [
  "/scan",
  "/scan/jsqr.js",
  "/static/scanner.js",
  "/static/web.css",
  "/static/icon.svg",
]);
