/* "My reviews" in the console: the quality reviews of the agent's own chats, their scores on the
   shop's rubric and the reviewer's comment (GET /api/review/mine). Needs console.js. */
(function () {
  "use strict";
  var B = window.ConsoleBridge, bar = document.getElementById("admin-link");
  if (!B || !bar) return;
  var t = function (k, v) { return B.t(k, v); };
  var button = document.createElement("button");
  button.type = "button"; button.className = "ghost"; button.id = "my-reviews"; button.setAttribute("data-t", "c.my_reviews");
  bar.parentNode.insertBefore(button, bar);
  var page = document.createElement("a");
  page.className = "ghost"; page.href = "/review"; page.setAttribute("data-t", "c.quality_review");
  bar.parentNode.insertBefore(page, bar);
  var panel = null;
  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text != null) n.textContent = text;
    return n;
  }
  function close() { if (panel) { panel.remove(); panel = null; } }
  function day(ts) {
    try { return new Intl.DateTimeFormat(B.lang(), { dateStyle: "medium" }).format(new Date(ts * 1000)); } catch (e) { return ""; }
  }
  button.onclick = function () {
    if (panel) return close();
    panel = el("section", "my-reviews"); panel.setAttribute("role", "dialog"); panel.setAttribute("aria-label", t("c.my_reviews"));
    var x = el("button", "ghost", t("c.close_panel")); x.type = "button"; x.onclick = close;
    panel.appendChild(x);
    panel.appendChild(el("h2", null, t("c.my_reviews")));
    var list = el("ol"); panel.appendChild(list);
    list.appendChild(el("li", "muted", t("c.loading")));
    document.body.appendChild(panel);
    fetch("/api/review/mine", { headers: { Authorization: "Bearer " + B.state.token } })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        list.textContent = "";
        if (!body.reviews || !body.reviews.length) { list.appendChild(el("li", "muted", t("c.no_reviews"))); return; }
        body.reviews.forEach(function (r) {
          var li = el("li");
          li.appendChild(el("b", null, t("c.review_of", { day: day(r.created_at), score: r.average.toFixed(1), by: r.reviewer_name || r.reviewer_id })));
          var scores = el("div", "scores");
          body.rubric.forEach(function (c) { if (c in r.scores) scores.appendChild(el("span", null, c + ": " + r.scores[c] + "/5")); });
          li.appendChild(scores);
          if (r.comment) li.appendChild(el("p", null, r.comment));
          list.appendChild(li);
        });
      })
      .catch(function () { list.textContent = ""; list.appendChild(el("li", "error", t("c.server_unreachable"))); });
  };
})();
