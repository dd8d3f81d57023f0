/* Attachments, shared by the widget and the console: upload a photo or PDF, and show one as a
   thumbnail (images) or a chip (PDF). Files are read with the reader's token in an Authorization
   header (never in a URL), so each is fetched once into a blob: URL and reused across renders.
   Needs ChatCommon; the console loads it with a <script>, /widget.js bundles it. */
var ChatFiles = (function () {
  "use strict";
  var C = ChatCommon;
  var ACCEPT = "image/jpeg,image/png,image/webp,image/gif,application/pdf";
  var loading = {}, ready = {}; // file url -> promise of a blob: URL | the blob: URL

  function blobUrl(base, token, url) {
    if (!loading[url]) {
      loading[url] = fetch(base + url, { headers: { Authorization: "Bearer " + token } })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.blob(); })
        .then(function (b) { ready[url] = URL.createObjectURL(b); return ready[url]; });
      loading[url].catch(function () { delete loading[url]; });
    }
    return loading[url];
  }

  /* "830 KB", "2.4 MB". */
  function size(n) {
    return n >= 1048576 ? (n / 1048576).toFixed(1) + " MB" : Math.max(1, Math.round(n / 1024)) + " KB";
  }

  /* The element for a file_attached event: a thumbnail that opens the image, or a chip that
     downloads the PDF. */
  function view(base, token, e) {
    var link = C.el("a");
    link.title = e.name;
    link.target = "_blank";
    link.rel = "noopener";
    if (/^image\//.test(e.content_type)) {
      link.className = "file-thumb";
      var img = C.el("img");
      img.alt = e.name;
      if (ready[e.url]) { img.src = ready[e.url]; link.href = ready[e.url]; }
      else blobUrl(base, token, e.url).then(function (u) { img.src = u; link.href = u; }, function () { img.alt = e.name + " \u26a0"; });
      link.appendChild(img);
      return link;
    }
    link.className = "file-chip";
    link.href = "#";
    link.appendChild(C.el("span", "file-icon", "PDF"));
    link.appendChild(C.el("span", "file-name", e.name));
    link.appendChild(C.el("span", "file-size", size(e.size)));
    link.onclick = function (ev) {
      ev.preventDefault();
      blobUrl(base, token, e.url).then(function (u) {
        var a = C.el("a"); a.href = u; a.download = e.name; document.body.appendChild(a); a.click(); a.remove();
      });
    };
    return link;
  }

  /* Send a file to a conversation: a promise of its file_attached event, or an Error whose
     message is the server's reason. */
  function upload(base, token, conversationId, file) {
    return fetch(base + "/api/conversations/" + encodeURIComponent(conversationId) + "/files", {
      method: "POST",
      body: file,
      headers: { Authorization: "Bearer " + token, "X-File-Name": encodeURIComponent(file.name), "X-Client-Id": C.clientId("f") }
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (b) {
        if (!r.ok) throw new Error(b.error || "HTTP " + r.status);
        return b;
      });
    });
  }

  /* A hidden file input; opens on pick() and calls onFile(file) for each file chosen. */
  function picker(parent, onFile) {
    var input = C.el("input");
    input.type = "file"; input.accept = ACCEPT; input.multiple = true; input.hidden = true;
    input.className = "file-input";
    input.addEventListener("change", function () {
      Array.prototype.forEach.call(input.files || [], onFile);
      input.value = "";
    });
    parent.appendChild(input);
    return { input: input, pick: function () { input.click(); } };
  }

  return { view: view, upload: upload, picker: picker, size: size };
})();
