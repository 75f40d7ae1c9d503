// A refused form comes back at the top of the page, and on a phone its first error can be a
// screen or more below (the preferences step, an offer's decline box, a case's hours): nothing in
// view says the form was refused. Move to the first problem, in page order: a field marked
// invalid (focused, so its label and message are read out through aria-describedby) or an error
// shown above a form's fields. The pledge form has its own error summary and focuses that.
// No inline script: strict CSP.
(function () {
  "use strict";
  if (document.getElementById("error-summary")) { return; }
  var marked = "main form .is-invalid, main form [aria-invalid=true], main form .alert-danger";
  var first = Array.prototype.find.call(document.querySelectorAll(marked), function (element) {
    return element.getClientRects().length > 0;  // not a hidden part of the form
  });
  if (!first) { return; }
  if (!/^(INPUT|SELECT|TEXTAREA)$/.test(first.tagName)) { first.setAttribute("tabindex", "-1"); }
  first.scrollIntoView({ block: "center", behavior: "instant" });  // no smooth scroll on load
  first.focus({ preventScroll: true });
})();
