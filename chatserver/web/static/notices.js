/* Notices from the shop in the widget: a card per notice_posted event (order confirmed, shipped,
   delayed, refunded) and, for a delay, its choices as buttons; once answered (choice_made) the
   card shows the answer instead. Needs ChatCommon; /widget.js bundles it before widget.js. */
var ChatNotices = (function () {
  "use strict";
  var C = ChatCommon;
  var CSS =
    ".notice-card{align-self:stretch;background:#fff;border:1px solid #e5e7eb;border-left:4px solid var(--accent);border-radius:12px;padding:10px 12px}" +
    ".notice-card h4{margin:0 0 4px;font-size:14px}.notice-card p{margin:0 0 6px;white-space:pre-wrap;overflow-wrap:anywhere}" +
    ".notice-card .coupon{font-weight:700;letter-spacing:.05em}.notice-card .choices{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}" +
    ".notice-card .choice{border:1px solid var(--accent);background:#fff;color:var(--accent);border-radius:16px;padding:6px 12px;cursor:pointer;font:inherit}" +
    ".notice-card .choice:hover{background:var(--accent);color:#fff}.notice-card .chosen{font-weight:600;color:#065f46}";

  var CHOICES = { keep_waiting: "w.choice_keep_waiting", faster_shipping: "w.choice_faster_shipping", cancel_refund: "w.choice_cancel_refund" };

  /* The answers of a conversation's events: notice id -> the choice made. */
  function answers(events) {
    var made = {};
    events.forEach(function (e) { if (e.type === "choice_made" && !made[e.notice_id]) made[e.notice_id] = e.choice; });
    return made;
  }

  /* The card of a notice_posted event; choose(noticeId, choice) sends the answer. */
  function card(e, chosen, t, choose) {
    var li = C.el("li", "notice-card notice-" + e.notice_kind);
    li.setAttribute("data-notice", e.notice_id);
    li.appendChild(C.el("h4", null, e.title));
    li.appendChild(C.el("p", null, e.text));
    if (e.tracking_link) {
      var a = C.el("a", null, t("w.notice_track"));
      a.href = /^https?:\/\//.test(e.tracking_link) ? e.tracking_link : "#";
      a.target = "_blank"; a.rel = "noopener";
      li.appendChild(a);
    }
    if (e.coupon) li.appendChild(C.el("p", "coupon", t("w.notice_coupon", { code: e.coupon })));
    if (chosen) li.appendChild(C.el("p", "chosen", t("w.notice_chosen", { choice: t(CHOICES[chosen] || chosen) })));
    else if (e.choices && e.choices.length) {
      var row = C.el("div", "choices");
      e.choices.forEach(function (c) {
        var b = C.el("button", "choice", t(CHOICES[c] || c));
        b.type = "button";
        b.onclick = function () { choose(e.notice_id, c); };
        row.appendChild(b);
      });
      li.appendChild(row);
    }
    return li;
  }

  return { css: CSS, answers: answers, card: card };
})();
