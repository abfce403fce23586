// Live preview for the article editor: sends the markdown to the server's sanitizing renderer
// and shows its HTML. Without JavaScript the "Preview" button does the same with a full page.
(function () {
  "use strict";
  var form = document.getElementById("editor-form");
  var pane = document.getElementById("preview");
  if (!form || !pane) { return; }
  var body = form.querySelector("textarea[name=body]");
  var tokenField = form.querySelector("input[name=csrf_token]");
  var url = pane.getAttribute("data-preview-url");
  var timer = null;
  var sent = 0;

  function render() {
    var ticket = ++sent;
    var headers = { "Content-Type": "application/json", "Accept": "application/json" };
    if (tokenField) { headers["X-CSRFToken"] = tokenField.value; }
    fetch(url, { method: "POST", credentials: "same-origin", headers: headers,
                 body: JSON.stringify({ body: body.value }) })
      .then(function (resp) { return resp.ok ? resp.json() : null; })
      .then(function (data) {
        // Only the newest answer counts: a slow older one must not overwrite it.
        if (data && ticket === sent) { pane.innerHTML = data.html; }
      })
      .catch(function () { /* the Preview button still works without the live pane */ });
  }

  body.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(render, 350);
  });
}());
