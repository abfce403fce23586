// Contact form: while the customer writes the subject and the description, show the articles
// that may answer it (GET /api/tickets/suggest), and nothing when none may. Opening one carries
// the subject as the query, so the article page can record that the customer came from the
// ticket form and let them say it solved the problem.
(function () {
  "use strict";
  var subject = document.getElementById("subject");
  var body = document.getElementById("body");
  var box = document.getElementById("ticket-suggestions-box");
  var list = document.getElementById("ticket-suggestions");
  if (!subject || !box || !list) { return; }
  var url = subject.getAttribute("data-suggest-url");
  if (!url) { return; }
  var BODY_CHARS = 600;   // the search reads the beginning of the text only
  var timer = null;
  var last = null;
  var pending = null;

  // The snippet is HTML-safe text with the matched words in <mark>: rebuild it from text nodes
  // and <mark> elements only, so nothing else the server might send can become markup.
  function snippetNode(html) {
    var p = document.createElement("p");
    p.className = "snippet muted";
    var doc = new DOMParser().parseFromString("<body>" + html + "</body>", "text/html");
    Array.prototype.forEach.call(doc.body.childNodes, function (node) {
      if (node.nodeName === "MARK") {
        var mark = document.createElement("mark");
        mark.textContent = node.textContent;
        p.appendChild(mark);
      } else {
        p.appendChild(document.createTextNode(node.textContent));
      }
    });
    return p;
  }

  function show(items, query) {
    list.textContent = "";
    box.hidden = !items.length;
    items.forEach(function (item) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      var sep = item.url.indexOf("?") === -1 ? "?" : "&";
      a.href = item.url + sep + "q=" + encodeURIComponent(query);
      a.textContent = item.title;
      li.appendChild(a);
      if (item.snippet) { li.appendChild(snippetNode(item.snippet)); }
      list.appendChild(li);
    });
  }

  function words(text) { return text.replace(/\s+/g, " ").trim(); }

  function lookup() {
    var s = words(subject.value);
    var b = body ? words(body.value).slice(0, BODY_CHARS) : "";
    var key = s + "\n" + b;
    if (key === last) { return; }
    last = key;
    if (s.length < 3) { show([], s); return; }
    if (pending && pending.abort) { pending.abort(); }
    pending = window.AbortController ? new AbortController() : null;
    var qs = "?subject=" + encodeURIComponent(s) + (b ? "&body=" + encodeURIComponent(b) : "");
    fetch(url + qs, {
      headers: { "Accept": "application/json" },
      credentials: "same-origin",
      signal: pending ? pending.signal : undefined
    }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        // a refused call (too many requests) leaves the list as it was
        if (data && key === last) { show(data.suggestions || [], s); }
      })
      .catch(function () { /* a failed lookup must not disturb the form */ });
  }

  // Debounced: a search runs when the customer pauses, not on every keystroke.
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(lookup, 400);
  }
  subject.addEventListener("input", schedule);
  if (body) { body.addEventListener("input", schedule); }
  if (subject.value.trim()) { lookup(); }
})();
