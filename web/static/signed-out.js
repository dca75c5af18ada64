// Signed out (or never signed in): forget any pass kept for offline use on this device.
if ("caches" in window) {
  caches.delete("tl-pass-v1");
}
