// "Was this helpful?": send the vote without leaving the page; without JS the forms post normally.
(function () {
  "use strict";
  var box = document.querySelector("[data-feedback]");
  if (!box || !window.fetch || !window.FormData) { return; }

  function send(form, submitter) {
    var data = new FormData(form);
    if (submitter && submitter.name) { data.append(submitter.name, submitter.value); }
    return fetch(form.action, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (resp) {
      if (!resp.ok) { throw new Error("status " + resp.status); }
      return resp.json();
    });
  }

  function show(state, submitter) {
    box.querySelector("[data-fb-thanks]").hidden = false;
    box.querySelector("[data-fb-no]").hidden = !state.negative;
    if (submitter) {
      var siblings = submitter.form.querySelectorAll("button[name]");
      for (var i = 0; i < siblings.length; i++) {
        siblings[i].setAttribute("aria-pressed", siblings[i] === submitter ? "true" : "false");
      }
    }
    if (state.negative) {
      var reason = box.querySelector("#fb-reason");
      if (reason) { reason.focus(); }
    }
  }

  box.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter || document.activeElement;
    event.preventDefault();
    send(form, submitter && submitter.form === form ? submitter : null)
      .then(function (state) { show(state, form.hasAttribute("data-fb-vote") ? submitter : null); })
      .catch(function () { form.submit(); });
  });
})();
