// Language picker enhancement for the profile's languages step (no inline script: strict CSP).
// Each language <select> gets a search box above it; typing asks the server for matching ISO
// 639-3 languages and puts them at the top of the select. Without JavaScript the select still
// lists the common court languages.
(function () {
  "use strict";
  var config = document.getElementById("language-search-config");
  if (!config) { return; }
  var url = config.getAttribute("data-search-url");

  function fill(select, results) {
    var current = select.value;
    var keep = Array.prototype.filter.call(select.options, function (o) {
      return o.value === "" || o.value === current;
    });
    select.innerHTML = "";
    keep.forEach(function (o) { select.appendChild(o); });
    results.forEach(function (lang) {
      if (lang.code === current) { return; }
      var option = document.createElement("option");
      option.value = lang.code;
      option.textContent = lang.name + " (" + lang.code + ")";
      select.appendChild(option);
    });
  }

  function enhance(select) {
    var box = document.createElement("input");
    box.type = "search";
    box.className = "form-control form-control-sm mb-1";
    box.placeholder = "Search all languages…";
    box.setAttribute("aria-label", "Search languages");
    select.parentNode.insertBefore(box, select);
    var timer = null;
    box.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        fetch(url + "?q=" + encodeURIComponent(box.value), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { results: [] }; })
          .then(function (data) {
            fill(select, data.results);
            if (box.value && data.results.length && !select.value) {
              select.value = data.results[0].code;
            }
          });
      }, 200);
    });
  }

  document.querySelectorAll("select[data-language-search]").forEach(enhance);
})();
