// WCAG 2.1 (4.1.2, 3.3.2): the admin's autocomplete widget (select2) leaves its combobox and its
// search box without a name. Name them after the field's own <label>, now and whenever select2
// redraws them (it rebuilds the search box of a multiple select after every change).
(function () {
  "use strict";

  function labelFor(select) {
    var label = document.querySelector('label[for="' + select.id + '"]');
    if (!label) return null;
    if (!label.id) label.id = select.id + "-label";
    return label;
  }

  function nameWidgets() {
    document.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      var container = select.nextElementSibling;
      var label = labelFor(select);
      if (!label || !container || !container.classList.contains("select2")) return;
      container.querySelectorAll('[role="combobox"]').forEach(function (box) {
        var value = box.querySelector(".select2-selection__rendered");
        var ids = label.id + (value && value.id ? " " + value.id : "");
        if (box.getAttribute("aria-labelledby") !== ids) box.setAttribute("aria-labelledby", ids);
      });
      // The rendered value is a read-only textbox of its own: the label names it too.
      container.querySelectorAll(".select2-selection__rendered[role]").forEach(function (value) {
        if (value.getAttribute("aria-labelledby") !== label.id) {
          value.setAttribute("aria-labelledby", label.id);
        }
      });
      container.querySelectorAll(".select2-search__field").forEach(function (field) {
        var text = label.textContent.replace(/:\s*$/, "").trim();
        if (field.getAttribute("aria-label") !== text) field.setAttribute("aria-label", text);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    nameWidgets();
    new MutationObserver(nameWidgets).observe(document.body, { childList: true, subtree: true });
  });
})();
