/* The orders the bot looked up for a chat, beside it in the console's details panel: number,
   status, items, carrier, tracking link, estimated delivery. They arrive as order_looked_up events
   of the staff log (console.js passes every event on as "console:event"); shop data is only ever
   set with textContent. */
(function () {
  "use strict";
  var C = ChatCommon;
  var texts = C.texts(), t = texts.t, el = C.el;
  var lang = C.language(localStorage.getItem("console:lang") || navigator.language || "en");
  var $ = function (id) { return document.getElementById(id); };
  var found = {}; // conversation id -> the latest orders looked up
  var shown = null;

  C.strings(location.origin, lang).then(function (loaded) { lang = loaded.lang; texts.use(loaded.table, lang); draw(); });

  document.addEventListener("console:event", function (ev) {
    var e = ev.detail;
    if (e.type === "order_looked_up" && e.orders.length) found[e.conversation_id] = e.orders;
  });
  document.addEventListener("console:info", function (ev) { shown = ev.detail.id; draw(); });

  function day(iso) {
    if (!iso) return "";
    try { return new Intl.DateTimeFormat(lang, { dateStyle: "medium" }).format(new Date(iso + "T12:00:00")); } catch (e) { return iso; }
  }
  function draw() {
    var list = $("orders"), section = $("orders-section");
    if (!list || !section) return;
    var orders = (shown && found[shown]) || [];
    section.hidden = !orders.length;
    list.textContent = "";
    orders.forEach(function (o) {
      var li = el("li", "order");
      var top = el("div", "order-top");
      top.appendChild(el("b", "order-number", t("c.order_number", { number: o.number })));
      top.appendChild(el("span", "order-status status-" + o.status, t("c.order_status." + o.status)));
      li.appendChild(top);
      if (o.items.length) li.appendChild(el("div", "order-items", o.items.join(", ")));
      var facts = el("dl", "facts");
      var fact = function (k, v) { if (!v) return; facts.appendChild(el("dt", null, t(k))); facts.appendChild(el("dd", null, v)); };
      fact("c.order_carrier", o.carrier);
      fact("c.order_eta", day(o.estimated_delivery));
      li.appendChild(facts);
      if (/^https?:\/\//.test(o.tracking_url)) {
        var a = el("a", "order-track", t("c.order_track")); a.href = o.tracking_url; a.target = "_blank"; a.rel = "noopener noreferrer";
        li.appendChild(a);
      }
      list.appendChild(li);
    });
  }
})();
