// The pledge form (no inline script: strict CSP). Each checkbox group (.checkbox-search) gets a
// filter box that hides the options whose label does not match, and a live count of the ticked
// ones; a refused form moves the focus to its error summary. Without JavaScript the scrollable
// lists of checkboxes and the summary's links work the same.
(function () {
  "use strict";
  function enhance(group) {
    var legend = group.querySelector("legend");
    var list = legend && legend.nextElementSibling;
    if (!list) { return; }
    list.classList.add("checkbox-list");
    var items = Array.prototype.slice.call(list.querySelectorAll(".form-check"));
    var name = legend.textContent.trim();
    var box = document.createElement("input");
    box.type = "search";
    box.className = "form-control form-control-sm mb-1";
    box.placeholder = "Type to filter…";
    box.setAttribute("aria-label", "Filter " + name);
    box.setAttribute("aria-controls", list.id || "");
    var count = document.createElement("div");
    count.className = "small text-body-secondary mt-1";
    count.setAttribute("aria-live", "polite");
    list.parentNode.insertBefore(box, list);
    list.parentNode.insertBefore(count, list.nextSibling);
    function counted() {
      var ticked = list.querySelectorAll("input:checked").length;
      count.textContent = ticked ? ticked + " selected" : "None selected";
    }
    box.addEventListener("input", function () {
      var q = box.value.trim().toLowerCase();
      items.forEach(function (item) {
        item.hidden = q !== "" && item.textContent.toLowerCase().indexOf(q) === -1;
      });
    });
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); }  // filtering never submits the form
    });
    list.addEventListener("change", counted);
    counted();
  }
  Array.prototype.forEach.call(document.querySelectorAll(".checkbox-search"), enhance);
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
