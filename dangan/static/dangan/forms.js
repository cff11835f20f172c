// Behaviour that would otherwise be inline (the Content-Security-Policy forbids inline script):
// a <select data-submit-on-change> submits its form when a choice is made (the language menu).
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-submit-on-change")) {
    target.form.submit();
  }
});
