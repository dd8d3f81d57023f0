/* What the shopper widget, the agent console and the reports page share, written once. Plain JS,
   no build step. A page loads it with its own <script> before its script and gets one global,
   ChatCommon. The server serves /widget.js as this file followed by widget.js, both inside one
   function, so a shop's page gets no global from it (the shop still adds a single tag). */
var ChatCommon = (function () {
  "use strict";

  /* The shipped locale tables (locales/<tag>.json), each by its own name for the language menus.
     tests/test_locales.py checks this list against the files. */
  var LANGUAGES = {
    "en": "English", "de": "Deutsch", "fr": "Français", "es": "Español", "it": "Italiano",
    "nl": "Nederlands", "pl": "Polski", "pt": "Português", "sv": "Svenska", "da": "Dansk",
    "ja": "日本語", "zh-CN": "简体中文", "ko": "한국어"
  };

  /* A locale table and t(key, vars): "{name}" filled from vars (numbers formatted for the locale);
     an entry that is an object holds plural forms by category ("one", "few", "many", "other"), and
     Intl.PluralRules picks one for vars.n. A missing key shows itself. */
  function texts() {
    var table = {}, locale = "en", rules = null;
    function number(v) {
      if (typeof v !== "number") return v;
      try { return new Intl.NumberFormat(locale).format(v); } catch (e) { return String(v); }
    }
    return {
      use: function (loaded, tag) {
        table = loaded || {}; locale = tag || "en";
        try { rules = new Intl.PluralRules(locale); } catch (e) { rules = null; }
      },
      locale: function () { return locale; },
      t: function (key, vars) {
        var s = table[key];
        if (s != null && typeof s === "object") {
          var n = vars && typeof vars.n === "number" ? vars.n : 0;
          s = s[rules ? rules.select(n) : "other"] || s.other;
        }
        s = s != null ? String(s) : key;
        return s.replace(/\{(\w+)\}/g, function (m, k) { return vars && vars[k] != null ? number(vars[k]) : m; });
      }
    };
  }

  /* The shipped table for a language tag: "de-AT" -> "de", "zh-TW" -> "zh-CN", "pt-BR" -> "pt";
     "" when none fits. */
  function table(tag) {
    tag = String(tag || "").replace("_", "-");
    var lower = tag.toLowerCase(), base = lower.split("-")[0];
    for (var name in LANGUAGES) if (name.toLowerCase() === lower) return name;
    for (name in LANGUAGES) if (name.toLowerCase().split("-")[0] === base) return name;
    return "";
  }

  /* The first table that fits one of tags (most wanted first), else "en". */
  function language(tags) {
    tags = [].concat(tags);
    for (var i = 0; i < tags.length; i++) { var name = table(tags[i]); if (name) return name; }
    return "en";
  }

  /* The table for lang (see language()) over the English one, so a key missing in lang reads in
     English: a promise of {lang, table}. */
  function strings(base, lang) {
    lang = language(lang);
    var get = function (l) {
      return fetch(base + "/locales/" + l + ".json").then(function (r) {
        if (!r.ok) throw new Error(l);
        return r.json();
      });
    };
    var english = get("en");
    if (lang === "en") return english.then(function (t) { return { lang: "en", table: t }; });
    return Promise.all([english.catch(function () { return {}; }), get(lang).catch(function () { return null; })])
      .then(function (both) {
        if (!both[1]) return { lang: "en", table: both[0] };
        var merged = {}, k;
        for (k in both[0]) merged[k] = both[0][k];
        for (k in both[1]) merged[k] = both[1][k];
        return { lang: lang, table: merged };
      });
  }

  /* A <select> of the shipped languages, each by its own name; onPick(tag) on a change. */
  function languageMenu(current, label, onPick) {
    var s = el("select", "lang-menu");
    s.setAttribute("aria-label", label);
    for (var name in LANGUAGES) {
      var o = el("option", null, LANGUAGES[name]);
      o.value = name; o.lang = name;
      s.appendChild(o);
    }
    s.value = current;
    s.addEventListener("change", function () { onPick(s.value); });
    return s;
  }

  /* "about 2 minutes" kinds of spans: a number of seconds as seconds or minutes, the unit's plural
     chosen by Intl for the locale ("2 Minuten", "5 minut", "2 分"). */
  function duration(locale, sec) {
    var unit = sec < 60 ? "second" : "minute", n = sec < 60 ? sec : Math.ceil(sec / 60);
    try { return new Intl.NumberFormat(locale, { style: "unit", unit: unit, unitDisplay: "long" }).format(n); }
    catch (e) { return n + (unit === "second" ? " s" : " min"); }
  }

  /* A running clock of seconds, "1:05" (Intl.DurationFormat where the browser has it). */
  function digits(locale, sec) {
    var neg = sec < 0; sec = Math.abs(Math.round(sec));
    var parts = { hours: Math.floor(sec / 3600), minutes: Math.floor(sec / 60) % 60, seconds: sec % 60 };
    var text;
    try {
      text = new Intl.DurationFormat(locale, { style: "digital", hoursDisplay: "auto" }).format(parts)
        .replace(/^0(?=\d)/, ""); // "0:25", as a clock reads, not "00:25"
    } catch (e) {
      text = (parts.hours ? parts.hours + ":" + String(parts.minutes).padStart(2, "0") : String(parts.minutes)) +
        ":" + String(parts.seconds).padStart(2, "0");
    }
    return (neg ? "-" : "") + text;
  }

  /* "3 minutes ago", "in 2 hours", "yesterday": ts against now (both in seconds), by Intl. */
  function relative(locale, ts, now) {
    var d = ts - now, a = Math.abs(d);
    var steps = [[60, 1, "second"], [3600, 60, "minute"], [86400, 3600, "hour"], [604800, 86400, "day"],
      [2629800, 604800, "week"], [31557600, 2629800, "month"], [Infinity, 31557600, "year"]];
    for (var i = 0; i < steps.length; i++) {
      if (a < steps[i][0]) {
        try {
          return new Intl.RelativeTimeFormat(locale, { numeric: "auto" }).format(Math.round(d / steps[i][1]), steps[i][2]);
        } catch (e) { return ""; }
      }
    }
    return "";
  }

  /* The full date and time of ts (seconds), for a tooltip: "Montag, 30. November 2026 um 15:46". */
  function longDate(locale, ts, zone) {
    try {
      var o = { dateStyle: "full", timeStyle: "short" };
      if (zone) o.timeZone = zone;
      return new Intl.DateTimeFormat(locale, o).format(new Date(ts * 1000));
    } catch (e) { return ""; }
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
    LANGUAGES: LANGUAGES, texts: texts, table: table, language: language, strings: strings, translate: translate, el: el,
    languageMenu: languageMenu, duration: duration, digits: digits, relative: relative, longDate: longDate,
    clock: clock, clientId: clientId, enterSubmits: enterSubmits, typist: typist, link: link
  };
})();
