// Ask before irreversible actions: a form with data-confirm submits only when confirmed.
document.addEventListener("submit", function (event) {
  var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// While slow checks run, ask the server how many are left and reload the page when none are.
(function () {
  var box = document.querySelector("[data-poll-url]");
  // A live page (static/js/live.js) follows the run itself, without reloading under the person's hands.
  if (!box || !window.fetch || document.querySelector("[data-live]")) {
    return;
  }
  var url = box.getAttribute("data-poll-url");
  var run = box.getAttribute("data-poll-run");
  var delay = 2000;
  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (status && (status.finished || String(status.run) !== run)) {
          window.location.reload();
          return;
        }
        if (status) {
          var count = box.querySelector(".poll-count");
          if (count) {
            count.textContent = status.pending;
          }
        }
        delay = Math.min(delay * 1.5, 15000);
        window.setTimeout(poll, delay);
      })
      .catch(function () { window.setTimeout(poll, 15000); });
  }
  window.setTimeout(poll, delay);
})();

// Copy buttons: <button data-copy="#id"> copies the text of that element and says so.
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-copy]");
  if (!button || !navigator.clipboard) {
    return;
  }
  var source = document.querySelector(button.getAttribute("data-copy"));
  if (!source) {
    return;
  }
  navigator.clipboard.writeText(source.textContent.trim()).then(function () {
    var label = button.textContent;
    button.textContent = button.getAttribute("data-copied") || "Copied";
    window.setTimeout(function () { button.textContent = label; }, 1500);
  });
});
