/* What the shopper widget, the agent console and the reports page share, written once. Plain JS,
   no build step. A page loads it with its own <script> before its script and gets one global,
   ChatCommon. The server serves /widget.js as this file followed by widget.js, both inside one
   function, so a shop's page gets no global from it (the shop still adds a single tag). */
var ChatCommon = (function () {
  "use strict";

  /* A locale table and t(key, vars): "{name}" filled from vars; a missing key shows itself. */
  function texts() {
    var table = {};
    return {
      use: function (loaded) { table = loaded || {}; },
      t: function (key, vars) {
        var s = table[key] != null ? String(table[key]) : key;
        return s.replace(/\{(\w+)\}/g, function (m, k) { return vars && vars[k] != null ? vars[k] : m; });
      }
    };
  }

  /* "de-AT" -> "de": the name of a locale table. */
  function language(tag) { return String(tag || "en").toLowerCase().split(/[-_]/)[0]; }

  /* The table for lang from base + /locales/, else English: a promise of {lang, table}. */
  function strings(base, lang) {
    var get = function (l) {
      return fetch(base + "/locales/" + l + ".json").then(function (r) {
        if (!r.ok) throw new Error(l);
        return r.json();
      }).then(function (table) { return { lang: l, table: table }; });
    };
    return get(lang).catch(function () { return get("en"); });
  }

  /* Fill [data-t] (text), [data-ph] (placeholder) and [data-label] (aria-label) under root. */
  function translate(root, t) {
    root.querySelectorAll("[data-t]").forEach(function (n) { n.textContent = t(n.getAttribute("data-t")); });
    root.querySelectorAll("[data-ph]").forEach(function (n) { n.setAttribute("placeholder", t(n.getAttribute("data-ph"))); });
    root.querySelectorAll("[data-label]").forEach(function (n) { n.setAttribute("aria-label", t(n.getAttribute("data-label"))); });
  }

  /* An element; text is only ever set with textContent, never parsed as HTML. */
  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text != null) n.textContent = text;
    return n;
  }

  /* "14:05" for a server timestamp (seconds), in a time zone if given. */
  function clock(locale, ts, zone) {
    try {
      var o = { hour: "2-digit", minute: "2-digit" };
      if (zone) o.timeZone = zone;
      return new Intl.DateTimeFormat(locale, o).format(new Date(ts * 1000));
    } catch (e) { return ""; }
  }

  /* A fresh client_id for a frame the server acknowledges (and deduplicates on retries). */
  function clientId(prefix) {
    return prefix + Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
  }

  /* Enter (without Shift, outside an IME composition) submits the form. */
  function enterSubmits(e, form) {
    if (e.key !== "Enter" || e.shiftKey || e.isComposing) return false;
    e.preventDefault();
    form.requestSubmit();
    return true;
  }

  /* Typing notices, throttled: "typing" at most every 3 s, "stopped" 4 s after the last key.
     emit(on) sends one and says whether it could. */
  function typist(emit) {
    var last = 0, off = null;
    function typing(on) {
      clearTimeout(off);
      if (on) {
        if (Date.now() - last > 3000 && emit(true)) last = Date.now();
        off = setTimeout(function () { typing(false); }, 4000);
      } else if (last && emit(false)) {
        last = 0;
      }
    }
    return typing;
  }

  /* One socket that comes back by itself: on.open() when connected, on.frame(f) per JSON frame,
     on.down() when lost; reconnects with jittered exponential backoff (1 s doubling, at most 30 s)
     unless stop() was called (a later connect() starts over). */
  function link(url, on) {
    var ws = null, attempt = 0, timer = null;
    function connect() {
      clearTimeout(timer);
      try { ws = new WebSocket(url); } catch (e) { return retry(); }
      ws.onopen = function () { on.open(); };
      ws.onmessage = function (m) {
        var f;
        try { f = JSON.parse(m.data); } catch (e) { return; }
        on.frame(f);
      };
      ws.onclose = function () { ws = null; retry(); };
    }
    function retry() {
      on.down();
      var delay = Math.min(30000, 1000 * Math.pow(2, attempt++)) * (0.6 + Math.random() * 0.4);
      timer = setTimeout(connect, delay);
    }
    return {
      connect: connect,
      send: function (f) {
        if (ws && ws.readyState === 1) { ws.send(JSON.stringify(f)); return true; }
        return false;
      },
      resetBackoff: function () { attempt = 0; },
      drop: function () { if (ws) ws.close(); },
      stop: function () { clearTimeout(timer); if (ws) ws.onclose = null; }
    };
  }

  return {
    texts: texts, language: language, strings: strings, translate: translate, el: el,
    clock: clock, clientId: clientId, enterSubmits: enterSubmits, typist: typist, link: link
  };
})();
