// What the page says, taken into a form field with one click (a button beside the field), or
// every field's first suggestion at once ("Take all that the page says"). The persons field
// gets the line added; other fields are replaced. Nothing is saved until the form is.
(function () {
  "use strict";
  function take(button) {
    var form = button.closest("form") || document.querySelector("form.record-form");
    var field = form && form.querySelector('[name="' + button.dataset.suggestFor + '"]');
    if (!field) return;
    var value = button.dataset.value;
    if (field.tagName === "TEXTAREA" && button.dataset.suggestFor === "persons") {
      var lines = field.value.split("\n").filter(function (l) { return l.trim(); });
      if (lines.indexOf(value) < 0) lines.push(value);
      field.value = lines.join("\n");
    } else {
      field.value = value;
    }
    field.dispatchEvent(new Event("change", { bubbles: true }));
    button.classList.add("taken");
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.suggestion");
    if (button) { take(button); return; }
    if (event.target.closest("button.suggestion-all")) {
      var seen = {};
      document.querySelectorAll("button.suggestion").forEach(function (b) {
        if (!seen[b.dataset.suggestFor]) { seen[b.dataset.suggestFor] = true; take(b); }
      });
    }
  });
})();
