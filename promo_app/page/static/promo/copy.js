// The copy button of a token shown once. Without JavaScript the field is there to select.
(function () {
  "use strict";
  var button = document.getElementById("copy-secret");
  if (!button) {
    return;
  }
  var field = document.getElementById(button.getAttribute("data-copy"));
  var status = document.getElementById("copy-status");
  button.hidden = false;

  function done(copied) {
    status.textContent = copied
      ? "Copied. Keep it somewhere safe."
      : "Could not copy: the token is selected, copy it with Ctrl+C (⌘C).";
  }

  function selectAndCopy() {
    field.focus();
    field.select();
    try {
      done(document.execCommand("copy"));
    } catch (error) {
      done(false);
    }
  }

  button.addEventListener("click", function () {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () {
        done(true);
      }, selectAndCopy);
    } else {
      selectAndCopy();
    }
  });
  field.addEventListener("focus", function () {
    field.select();
  });
})();
