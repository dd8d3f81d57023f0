/* The after-sale resolution ladder in the console's side panel. For a damaged, wrong, late or
   incomplete order (an agent's tag, else the bot's matched FAQ entry) it lists the shop's
   resolutions cheapest first (GET /api/playbook/ladder), with what each costs on this order; the
   agent ticks at least two and offers them (offer_resolutions), and can record the one the
   shopper accepted on their behalf. Needs console.js (ConsoleBridge). */
(function () {
  "use strict";
  var B = window.ConsoleBridge, info = document.getElementById("info");
  if (!B || !info) return;
  var FAQ = { "damaged-item": "damaged", "wrong-item": "wrong", "shipping-delay": "late", "lost-package": "late", "missing-item": "incomplete" };
  var TAGS = { "damaged": "damaged", "wrong-item": "wrong", "late": "late", "incomplete": "incomplete" };
  var ladder = null, loading = false, drawn = null;
  var section = document.createElement("section");
  section.id = "ladder"; section.className = "ladder"; section.hidden = true;
  info.insertBefore(section, info.querySelector("section"));
  var t = function (k, v) { return B.t(k, v); };
  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text != null) n.textContent = text;
    return n;
  }

  function problemOf(c) {
    for (var i = 0; i < c.tags.length; i++) if (TAGS[c.tags[i]]) return TAGS[c.tags[i]];
    for (var j = c.events.length - 1; j >= 0; j--) {
      var e = c.events[j];
      if (e.type === "message_posted" && e.faq_id && FAQ[e.faq_id]) return FAQ[e.faq_id];
    }
    return null;
  }
  function latest(c, type) {
    for (var i = c.events.length - 1; i >= 0; i--) if (c.events[i].type === type) return c.events[i];
    return null;
  }
  function money(amount, currency) {
    try { return new Intl.NumberFormat(B.lang(), { style: "currency", currency: currency }).format(amount); }
    catch (e) { return amount.toFixed(2) + " " + currency; }
  }
  function load() {
    if (ladder || loading) return;
    loading = true;
    fetch("/api/playbook/ladder", { headers: { Authorization: "Bearer " + B.state.token } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) { ladder = body; loading = false; drawn = null; redraw(); })
      .catch(function () { loading = false; });
  }
  function redraw() {
    var c = B.state.convs[B.state.selected];
    if (c) draw(c);
  }

  // The form is built once per chat and offer state (typing in it survives the console's redraws).
  function draw(c) {
    var problem = problemOf(c);
    section.hidden = !problem;
    if (!problem) { drawn = null; return; }
    if (!ladder) { load(); return; }
    var offer = latest(c, "resolutions_offered"), accepted = latest(c, "resolution_accepted");
    var own = c.agent === B.state.me && c.status !== "closed";
    var key = [c.id, problem, offer && offer.seq, accepted && accepted.seq, own].join("|");
    if (key === drawn) return;
    drawn = key;
    section.textContent = "";
    section.appendChild(el("h3", null, t("c.res_title", { problem: t("c.problem_" + problem) })));
    if (accepted) {
      section.appendChild(el("p", "res-settled", t("c.res_settled", { what: t("c.res_" + accepted.resolution), amount: money(accepted.amount, accepted.currency) })));
      return;
    }
    if (offer) section.appendChild(offered(c, offer, own));
    if (own) section.appendChild(form(c, problem));
  }

  function offered(c, offer, own) {
    var box = el("div", "res-offer");
    box.appendChild(el("p", "muted", t("c.res_waiting")));
    offer.options.forEach(function (o) {
      var row = el("div", "res-row");
      row.appendChild(el("span", null, t("c.res_" + o.kind) + " \u00b7 " + money(o.amount, offer.currency)));
      if (own) {
        var b = el("button", "ghost", t("c.res_record")); b.type = "button";
        b.onclick = function () { B.send({ type: "accept_resolution", conversation_id: c.id, offer_seq: offer.seq, kind: o.kind }); };
        row.appendChild(b);
      }
      box.appendChild(row);
    });
    return box;
  }

  function form(c, problem) {
    var ctx = c.context || {};
    var f = el("form", "res-form");
    var money_ = el("div", "res-money");
    var value = el("input"); value.type = "number"; value.min = "0.01"; value.step = "0.01"; value.name = "order_value";
    value.value = ctx.product_price && isFinite(Number(ctx.product_price)) ? String(Number(ctx.product_price)) : "";
    value.setAttribute("aria-label", t("c.res_order_value")); value.placeholder = t("c.res_order_value");
    var currency = el("input"); currency.name = "currency"; currency.maxLength = 3; currency.size = 3;
    currency.value = (ctx.currency || "EUR").toUpperCase(); currency.setAttribute("aria-label", t("c.res_currency"));
    money_.appendChild(value); money_.appendChild(currency);
    f.appendChild(money_);
    var list = el("ol", "res-steps");
    var rows = [];
    ladder.steps.forEach(function (s) {
      var li = el("li", "res-step");
      var allowed = s.low <= ladder.limit;
      var box = el("input"); box.type = "checkbox"; box.disabled = !allowed; box.name = s.kind;
      var pct = el("input"); pct.type = "number"; pct.min = String(s.low); pct.max = String(Math.min(s.high, ladder.limit));
      pct.step = "1"; pct.value = String(s.low); pct.disabled = !allowed || s.low === s.high;
      pct.setAttribute("aria-label", t("c.res_percent", { what: t("c.res_" + s.kind) }));
      var label = el("label", "res-name");
      label.appendChild(box); label.appendChild(el("span", null, t("c.res_" + s.kind)));
      var range = el("span", "muted res-range", s.low === s.high ? s.low + "%" : s.low + "\u2013" + s.high + "%");
      var cost = el("span", "res-cost");
      li.appendChild(label); li.appendChild(range); li.appendChild(pct); li.appendChild(cost);
      if (!allowed) li.appendChild(el("span", "res-limit", t("c.res_over_limit")));
      list.appendChild(li);
      rows.push({ step: s, box: box, pct: pct, cost: cost });
    });
    f.appendChild(list);
    function costs() {
      var v = Number(value.value), cur = currency.value.toUpperCase();
      rows.forEach(function (r) {
        r.cost.textContent = v > 0 && /^[A-Z]{3}$/.test(cur) ? money(Math.round(v * Number(r.pct.value)) / 100, cur) : "";
      });
    }
    var note = el("p", "res-note muted", t("c.res_pick_two", { limit: ladder.limit }));
    f.addEventListener("input", function () {
      costs();
      note.textContent = t("c.res_pick_two", { limit: ladder.limit }); note.classList.remove("error");
    });
    costs();
    f.appendChild(note);
    var go = el("button", "primary", t("c.res_offer")); go.type = "submit";
    f.appendChild(go);
    f.addEventListener("submit", function (e) {
      e.preventDefault();
      var chosen = rows.filter(function (r) { return r.box.checked; });
      var v = Number(value.value), cur = currency.value.trim().toUpperCase();
      if (chosen.length < 2) { note.textContent = t("c.res_need_two"); note.classList.add("error"); return; }
      if (!(v > 0) || !/^[A-Z]{3}$/.test(cur)) { note.textContent = t("c.res_need_value"); note.classList.add("error"); return; }
      B.send({ type: "offer_resolutions", conversation_id: c.id, client_id: ChatCommon.clientId("r"),
        problem: problem, order_value: v, currency: cur,
        options: chosen.map(function (r) { return { kind: r.step.kind, percent: Number(r.pct.value) }; }) });
    });
    return f;
  }

  document.addEventListener("console:chat", function (e) { draw(e.detail); });
})();
