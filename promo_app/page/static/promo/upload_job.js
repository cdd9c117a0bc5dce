// An upload job's page while the server imports the file: poll its state every second,
// show the counts and how much of the file was read, and load the page again (the report)
// once the job has ended. Without JavaScript the page refreshes itself (<noscript>).
(function () {
  "use strict";
  var box = document.getElementById("upload-job");
  if (!box || !window.fetch) {
    return;
  }
  var url = box.getAttribute("data-state-url");
  var bar = document.getElementById("job-bar");
  var status = document.getElementById("job-status");

  function number(value) {
    return value.toLocaleString("en-US");
  }

  function show(state) {
    ["inserted", "duplicated", "invalid"].forEach(function (name) {
      var cell = box.querySelector("[data-count=" + name + "]");
      if (cell) {
        cell.textContent = number(state[name]);
      }
    });
    if (bar) {
      bar.value = state.percent;
    }
    if (status) {
      status.textContent = (state.status === "queued" ? "Waiting to start" : "Importing") +
        ": " + state.percent + "% of the file read.";
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (state) {
        if (state.finished) {
          window.location.reload();
          return;
        }
        show(state);
        window.setTimeout(poll, 1000);
      })
      .catch(function () {
        window.setTimeout(poll, 3000); // the server restarting: try again a little later
      });
  }

  window.setTimeout(poll, 500);
})();
