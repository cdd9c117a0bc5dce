// Upload with a progress bar. Without JavaScript the form posts as usual.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) {
    return;
  }
  var input = document.getElementById("file");
  var box = document.getElementById("upload-progress");
  var bar = document.getElementById("upload-bar");
  var status = document.getElementById("upload-status");
  var button = form.querySelector("button[type=submit]");
  var refusal = document.getElementById("upload-client-error");
  var limit = parseInt(form.getAttribute("data-max-bytes"), 10);

  function show(text) {
    box.hidden = false;
    status.textContent = text;
  }

  function megabytes(bytes) {
    if (bytes < 1024 * 1024) {
      return (bytes / 1024).toFixed(1) + " KiB";
    }
    return (bytes / (1024 * 1024)).toFixed(1) + " MiB";
  }

  form.addEventListener("submit", function (event) {
    var file = input.files && input.files[0];
    if (!file) {
      return; // the browser's own "required" message
    }
    event.preventDefault();
    refusal.hidden = true;
    if (limit && file.size > limit) {
      box.hidden = true;
      refusal.textContent = "This file is " + megabytes(file.size) + ", over the limit of " +
        form.getAttribute("data-max-text") + ". Nothing was uploaded.";
      refusal.hidden = false;
      return;
    }
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.upload.addEventListener("progress", function (progress) {
      if (progress.lengthComputable) {
        bar.value = Math.round((100 * progress.loaded) / progress.total);
        show("Uploading: " + megabytes(progress.loaded) + " of " + megabytes(progress.total));
      }
    });
    request.upload.addEventListener("load", function () {
      bar.removeAttribute("value"); // indeterminate while the server imports
      show("Uploaded. Checking the file…");
    });
    request.addEventListener("load", function () {
      // Accepted: the answer is the upload job's page (the import goes on on the server),
      // opened as a page of its own. Refused: the form with its error, shown as it came.
      var landed = request.responseURL;
      if (request.status === 200 && landed && landed.split("?")[0] !== form.action) {
        window.location.assign(landed);
        return;
      }
      document.open();
      document.write(request.responseText);
      document.close();
    });
    request.addEventListener("error", function () {
      button.disabled = false;
      box.hidden = true;
      refusal.textContent = "The upload failed: the connection was lost. " +
        "Open the program to see what was imported, then try again.";
      refusal.hidden = false;
    });
    button.disabled = true;
    bar.value = 0;
    show("Starting the upload…");
    request.send(new FormData(form));
  });
})();
