// Pass Tiers-Lieux door scanner: camera (jsQR) and manual entry, online and offline.
// Online, every scan goes to /scan/scans (the server decides). Offline, the token is checked
// here with the rules of passes/verify.py (docs/pass-format.md) against the keys and
// revocations kept from /scan/state, the verdict is shown "checked offline", and the scan
// waits in a queue that /scan/scans:batch receives when the network is back. A server that
// answers 5xx (its database frozen, a proxy's 502/503/504 page) or not within
// SERVER_WAIT_MS counts as no network: the door never waits on it.
"use strict";

(function () {
  const config = JSON.parse(document.getElementById("scanner-config").textContent);
  const words = config.words;
  const STORE = "tl-scan:" + config.state.venue.id;
  const PREFIX = "TL1:";
  const HEADER_BYTES = 15;
  const TOKEN_BYTES = HEADER_BYTES + 64;
  const CLOCK_SKEW_SECONDS = 300;
  const SAME_TOKEN_PAUSE_MS = 30000;
  const VERDICT_MS = 8000;
  // A healthy server answers a scan in well under a second; one that is slow but working
  // answers within 3 s (1 s for a connection, 2 s statement timeout: docs/reliability.md);
  // one whose database is frozen answers 503 within 5 s. The door gives up at 4 s, before
  // that bound, and judges offline: the scan keeps its scan_id, so if the server did record
  // it after all, the batch that sends the queue later gets the same scan back, not a second.
  const SERVER_WAIT_MS = 4000;
  const UNSIGNED = ["malformed", "unsupported_version", "unknown_key", "bad_signature"];

  const $ = (id) => document.getElementById(id);
  const say = (key, values) =>
    (words[key] || key).replace(/%\((\w+)\)s/g, (_, name) => String(values[name]));

  // ---- what the page keeps (localStorage: small, synchronous, survives restarts) ----
  function load(name, fallback) {
    try {
      const text = localStorage.getItem(STORE + ":" + name);
      return text ? JSON.parse(text) : fallback;
    } catch (error) {
      return fallback;
    }
  }
  function save(name, value) {
    localStorage.setItem(STORE + ":" + name, JSON.stringify(value));
  }

  // The page may come from the service worker's cache: keep whichever state is newer.
  const kept = load("state", null);
  let state = kept && kept.fetched_at > config.state.fetched_at ? kept : config.state;
  let queue = load("queue", []);
  let csrf = state.csrf_token;
  save("state", state);

  // ---- the offline verifier: passes/verify.py in the browser ----
  const B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

  function base45(text) {
    const out = [];
    if (text.length % 3 === 1) throw new Error("base45 length");
    for (let i = 0; i < text.length; i += 3) {
      const chunk = text.slice(i, i + 3);
      const values = [...chunk].map((c) => {
        const v = B45.indexOf(c);
        if (v < 0) throw new Error("base45 character");
        return v;
      });
      if (values.length === 3) {
        const n = values[0] + values[1] * 45 + values[2] * 2025;
        if (n > 0xffff) throw new Error("base45 value");
        out.push(n >> 8, n & 0xff);
      } else {
        const n = values[0] + values[1] * 45;
        if (n > 0xff) throw new Error("base45 value");
        out.push(n);
      }
    }
    return new Uint8Array(out);
  }

  function base64url(text) {
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  }

  function localDate(zone) {
    // en-CA writes dates as YYYY-MM-DD.
    return new Intl.DateTimeFormat("en-CA", { timeZone: zone }).format(new Date());
  }

  async function verifyOffline(token) {
    token = token.trim();
    let raw;
    try {
      if (!token.startsWith(PREFIX)) throw new Error("prefix");
      raw = base45(token.slice(PREFIX.length));
      if (raw.length !== TOKEN_BYTES) throw new Error("length");
    } catch (error) {
      return { admitted: false, reason: "malformed", serial: null };
    }
    const header = raw.slice(0, HEADER_BYTES);
    const signature = raw.slice(HEADER_BYTES);
    const view = new DataView(header.buffer);
    const version = view.getUint8(0);
    const keyId = view.getUint16(1);
    const serial = view.getUint32(3);
    const notBefore = view.getUint32(7);
    const notAfter = view.getUint32(11);
    const refuse = (reason) => ({ admitted: false, reason, serial });
    if (version !== 1) return refuse("unsupported_version");
    const key = state.keys.find((k) => k.key_id === keyId);
    if (!key) return refuse("unknown_key");
    let good = false;
    try {
      const publicKey = await crypto.subtle.importKey(
        "raw", base64url(key.public_key), { name: "Ed25519" }, false, ["verify"],
      );
      good = await crypto.subtle.verify({ name: "Ed25519" }, publicKey, signature, header);
    } catch (error) {
      good = false;
    }
    if (!good) return refuse("bad_signature");
    const now = Date.now() / 1000;
    if (key.not_after && now > Date.parse(key.not_after) / 1000) return refuse("key_expired");
    if (now + CLOCK_SKEW_SECONDS < notBefore) return refuse("not_yet_valid");
    if (now - CLOCK_SKEW_SECONDS > notAfter) return refuse("expired");
    if (state.revoked.includes(serial)) return refuse("revoked");
    if (state.suspended.includes(serial)) return refuse("suspended");
    // The server's first rule of its own that a door can know: is the venue open today?
    if (state.venue.local_date === localDate(state.venue.timezone) && !state.venue.open_today) {
      return refuse("venue_closed");
    }
    return { admitted: true, reason: null, serial };
  }

  function bookingOf(serial) {
    if (state.venue.local_date !== localDate(state.venue.timezone)) return null;
    return (
      state.arrivals.find((a) => a.serial === serial) ||
      (state.meeting_guests || []).find((a) => a.serial === serial) ||
      null
    );
  }

  // ---- showing things ----
  let verdictTimer = null;

  function line(parent, text, className) {
    if (!text) return;
    const p = document.createElement("p");
    p.textContent = text;
    if (className) p.className = className;
    parent.appendChild(p);
  }

  function showVerdict(v) {
    const box = $("verdict");
    box.className = "verdict shown " + (v.admitted ? "admitted" : "refused");
    box.replaceChildren();
    const inner = document.createElement("div");
    inner.className = "verdict-box";
    const title = document.createElement("p");
    title.className = "verdict-title";
    const mark = document.createElement("span");
    mark.setAttribute("aria-hidden", "true");
    mark.textContent = v.admitted ? "✓ " : "✗ ";
    title.append(mark, say(v.admitted ? "scan.js.admitted" : "scan.js.refused", {}));
    inner.appendChild(title);
    line(inner, v.agent_name, "verdict-name");
    line(inner, v.organisation_name);
    if (v.meeting_text) line(inner, v.meeting_text);
    if (v.workspace_name) line(inner, v.workspace_name + " · " + v.starts + " – " + v.ends);
    if (v.admitted && v.walk_in) line(inner, say("scan.js.walk_in", {}));
    if (v.admitted && v.offline && !v.workspace_name) {
      line(inner, v.agent_name ? say("scan.js.no_booking_known", {}) : say("scan.js.unknown_holder", {}));
    }
    line(inner, v.reason_text || (v.reason ? say("scan.reason." + v.reason, {}) : ""), "verdict-reason");
    if (v.offline) line(inner, "⚑ " + say("scan.js.offline_checked", {}), "verdict-offline");
    const next = document.createElement("button");
    next.type = "button";
    next.className = "button verdict-next";
    next.textContent = say("scan.js.next", {});
    next.addEventListener("click", hideVerdict);
    inner.appendChild(next);
    box.appendChild(inner);
    // Keyboard users dismiss it with Enter; the live region has already announced the verdict.
    next.focus({ preventScroll: true });
    clearTimeout(verdictTimer);
    verdictTimer = setTimeout(hideVerdict, VERDICT_MS);
  }

  function hideVerdict() {
    clearTimeout(verdictTimer);
    $("verdict").className = "verdict";
    $("verdict").replaceChildren();
    $("token").focus();
  }

  function arrivalItem(a) {
    const li = document.createElement("li");
    li.className = a.arrived_at ? "arrived" : "expected";
    const who = document.createElement("span");
    who.className = "who";
    const name = document.createElement("strong");
    name.textContent = a.agent_name;
    const org = document.createElement("span");
    org.className = "muted";
    org.textContent = a.organisation_name;
    who.append(name, " ", org);
    const what = document.createElement("span");
    what.className = "what";
    what.textContent = a.workspace_name + " · " + a.starts + " – " + a.ends;
    const when = document.createElement("span");
    when.className = "when";
    when.textContent = a.arrived_at
      ? say(a.pending ? "scan.js.pending" : "scan.js.arrived", { time: a.arrived_at })
      : say("scan.js.expected", {});
    li.append(who, what, when);
    return li;
  }

  function renderArrivals() {
    const items = state.arrivals.map(arrivalItem);
    if (items.length === 0) {
      const none = document.createElement("li");
      none.className = "none";
      none.textContent = say("scan.arrivals.none", {});
      items.push(none);
    }
    $("arrivals").replaceChildren(...items);
    $("arrivals-count").textContent = say("scan.arrivals.count", {
      arrived: state.arrivals.filter((a) => a.arrived_at).length,
      total: state.arrivals.length,
    });
  }

  function renderQueue() {
    const count = queue.length;
    $("waiting-count").hidden = count === 0;
    $("waiting-count").textContent = "· " + say("scan.js.waiting", { count });
    $("queue").hidden = count === 0;
    $("queue-list").replaceChildren(
      ...queue.map((item) => {
        const li = document.createElement("li");
        li.textContent =
          clock(new Date(item.scanned_at)) + " — " + (item.label || say("scan.js.unknown_holder", {})) + " — " +
          say(item.local_verdict.admitted ? "scan.js.admitted" : "scan.js.refused", {});
        return li;
      }),
    );
  }

  function renderNetwork() {
    const online = navigator.onLine;
    $("network").dataset.state = online ? "online" : "offline";
    $("network-text").textContent = say(online ? "scan.js.online" : "scan.js.offline", {});
  }

  function clock(date) {
    const parts = new Intl.DateTimeFormat("fr-FR", {
      hour: "2-digit", minute: "2-digit", timeZone: state.venue.timezone,
    }).formatToParts(date);
    const hour = parts.find((p) => p.type === "hour").value;
    const minute = parts.find((p) => p.type === "minute").value;
    return config.lang === "fr" ? hour + " h " + minute : hour + ":" + minute;
  }

  // ---- talking to the server ----
  // The session is over (a redirect to sign in, a 401): the page cannot go on by itself.
  class SessionGone extends Error {}
  // No answer in time, no network, or a 5xx: the same as offline, and the retry timer
  // tries again later.
  class ServerAway extends Error {}

  async function call(method, url, body) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), SERVER_WAIT_MS);
    try {
      let response;
      try {
        response = await fetch(url, {
          method,
          credentials: "same-origin",
          headers: body ? { "content-type": "application/json", "x-csrftoken": csrf } : {},
          body: body ? JSON.stringify(body) : undefined,
          signal: abort.signal,
        });
      } catch (error) {
        throw new ServerAway(error.message);
      }
      // Before the content type: a proxy's 502/503/504 is an HTML page, not a lost session.
      if (response.status >= 500) throw new ServerAway(String(response.status));
      const json = (response.headers.get("content-type") || "").includes("json");
      if (response.redirected || response.status === 401) throw new SessionGone();
      if (!json) {
        if (response.ok) throw new SessionGone(); // a sign-in page served in place of ours
        const error = new Error(String(response.status));
        error.status = response.status;
        throw error;
      }
      let data;
      try {
        data = await response.json();
      } catch (error) {
        // The body was cut (the wait ran out while it came): no answer.
        throw new ServerAway(error.message);
      }
      if (!response.ok) {
        const error = new Error(data.detail || String(response.status));
        error.status = response.status;
        throw error;
      }
      return data;
    } finally {
      clearTimeout(timer);
    }
  }

  async function refresh() {
    const fresh = await call("GET", "/scan/state?lang=" + config.lang);
    csrf = fresh.csrf_token;
    state = fresh;
    // Scans still waiting are arrivals the server does not know yet.
    for (const item of queue) markArrived(item);
    save("state", state);
    renderArrivals();
  }

  function markArrived(item) {
    if (!item.local_verdict.admitted || !item.booking_id) return;
    const booking = state.arrivals.find((a) => a.booking_id === item.booking_id);
    if (booking && !booking.arrived_at) {
      booking.arrived_at = clock(new Date(item.scanned_at));
      booking.pending = true;
    }
  }

  function uuid4() {
    return crypto.randomUUID();
  }

  let syncing = false;

  async function sync() {
    if (syncing || queue.length === 0 || !navigator.onLine) return;
    syncing = true;
    try {
      await refresh();
      const sent = queue.slice(0, 500);
      const answer = await call("POST", "/scan/scans:batch?lang=" + config.lang, {
        scans: sent.map(({ scan_id, token, scanned_at, direction, local_verdict }) => ({
          scan_id, token, scanned_at, direction, local_verdict,
        })),
      });
      const done = new Set(sent.map((s) => s.scan_id));
      queue = load("queue", []).filter((s) => !done.has(s.scan_id));
      save("queue", queue);
      showSynced(answer.results, sent);
      await refresh();
    } catch (error) {
      if (error instanceof SessionGone) showMessage(say("scan.js.session", {}));
      // Otherwise still offline, the server away or refusing the batch: the retry timer
      // tries again (the scans stay queued).
    } finally {
      syncing = false;
      renderQueue();
    }
  }

  function showSynced(results, sent) {
    const byId = new Map(sent.map((s) => [s.scan_id, s]));
    $("synced").hidden = false;
    const list = $("synced-list");
    for (const r of results) {
      const li = document.createElement("li");
      const item = byId.get(r.scan_id);
      const who = r.agent_name || (item && item.label) || say("scan.js.unknown_holder", {});
      const verdict = say(r.admitted ? "scan.js.admitted" : "scan.js.refused", {});
      const agreement = r.anomaly ? say("scan.js.synced.anomaly", {}) : say("scan.js.synced.agree", {});
      li.textContent =
        (item ? clock(new Date(item.scanned_at)) + " — " : "") + who + " — " + verdict +
        (r.reason_text ? " (" + r.reason_text + ")" : "") + " — " + agreement;
      list.prepend(li);
    }
  }

  function showMessage(text) {
    $("camera-message").hidden = false;
    $("camera-message").textContent = text;
  }

  async function scanOffline(token, scanId, scannedAt) {
    const local = await verifyOffline(token);
    // A token whose signature failed names nobody, whatever serial it claims.
    const signed = !UNSIGNED.includes(local.reason);
    const booking = signed && local.serial !== null ? bookingOf(local.serial) : null;
    const item = {
      scan_id: scanId,
      token: token.trim(),
      scanned_at: scannedAt,
      direction: "in",
      local_verdict: { admitted: local.admitted, reason: local.reason },
      label: booking ? booking.agent_name : null,
      booking_id: booking && booking.booking_id ? booking.booking_id : null,
    };
    queue = load("queue", []);
    queue.push(item);
    save("queue", queue);
    markArrived(item);
    save("state", state);
    renderQueue();
    renderArrivals();
    showVerdict({
      admitted: local.admitted,
      reason: local.reason,
      agent_name: booking ? booking.agent_name : null,
      organisation_name: booking ? booking.organisation_name : null,
      meeting_text: booking ? booking.meeting_text : null,
      workspace_name: booking ? booking.workspace_name : null,
      starts: booking ? booking.starts : null,
      ends: booking ? booking.ends : null,
      offline: true,
    });
  }

  async function scan(token) {
    const scanId = uuid4();
    const scannedAt = new Date().toISOString();
    if (!navigator.onLine) return scanOffline(token, scanId, scannedAt);
    try {
      const verdict = await call("POST", "/scan/scans?lang=" + config.lang, {
        scan_id: scanId, token: token.trim(), scanned_at: scannedAt, direction: "in",
      });
      showVerdict(verdict);
      refresh().catch(() => {});
    } catch (error) {
      if (error instanceof SessionGone) {
        showMessage(say("scan.js.session", {}));
      } else if (error instanceof ServerAway) {
        // The network failed under us, or the server cannot answer: judge here, as offline.
        await scanOffline(token, scanId, scannedAt);
      } else {
        // A 4xx: the server refused this request (validation, permission): say so.
        showMessage(say("scan.js.error", { detail: error.message }));
      }
    }
  }

  // ---- manual entry ----
  $("manual-form").addEventListener("submit", (event) => {
    const field = $("token");
    if (!field.value.trim()) return; // the server shows the error next to the field
    event.preventDefault();
    const token = field.value;
    field.value = "";
    scan(token);
  });

  // ---- camera ----
  const video = $("camera-video");
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  let stream = null;
  let lastToken = "";
  let lastAt = 0;

  async function startCamera() {
    if (!navigator.mediaDevices || !window.jsQR) {
      showMessage(say("scan.js.camera_denied", {}));
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "environment" }, audio: false,
      });
    } catch (error) {
      showMessage(say("scan.js.camera_denied", {}));
      return;
    }
    $("camera-message").hidden = true;
    $("viewfinder").hidden = false;
    video.srcObject = stream;
    await video.play();
    $("camera-toggle").textContent = $("camera-toggle").dataset.stop;
    requestAnimationFrame(tick);
  }

  function stopCamera() {
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    video.srcObject = null;
    $("viewfinder").hidden = true;
    $("camera-toggle").textContent = $("camera-toggle").dataset.start;
  }

  function tick() {
    if (!stream) return;
    const busy = $("verdict").classList.contains("shown");
    if (!busy && video.readyState >= video.HAVE_ENOUGH_DATA) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      const code = window.jsQR(image.data, image.width, image.height, {
        inversionAttempts: "dontInvert",
      });
      const now = Date.now();
      if (code && code.data && (code.data !== lastToken || now - lastAt > SAME_TOKEN_PAUSE_MS)) {
        lastToken = code.data;
        lastAt = now;
        scan(code.data);
      }
    }
    setTimeout(() => requestAnimationFrame(tick), 150);
  }

  $("camera").hidden = false;
  $("camera-toggle").addEventListener("click", () => (stream ? stopCamera() : startCamera()));

  // ---- start ----
  window.addEventListener("online", () => {
    renderNetwork();
    if (queue.length) sync();
    else refresh().catch(() => {});
  });
  window.addEventListener("offline", renderNetwork);
  setInterval(sync, 20000);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/scan/sw.js", { scope: "/scan" });
  }
  renderNetwork();
  for (const item of queue) markArrived(item);
  renderQueue();
  renderArrivals();
  if (navigator.onLine) {
    if (queue.length) sync();
    else refresh().catch(() => {});
  }
  startCamera();
})();
