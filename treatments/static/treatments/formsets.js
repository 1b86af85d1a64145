// "Add another" for Django formsets: clones the formset's <template id="PREFIX-empty-form">
// into [data-formset=PREFIX] and counts it in PREFIX-TOTAL_FORMS. Without JavaScript the
// page still offers its blank rows, so the form works either way.
(function () {
  "use strict";
  document.querySelectorAll("[data-add-row]").forEach(function (button) {
    var prefix = button.dataset.addRow;
    var container = document.querySelector('[data-formset="' + prefix + '"]');
    var template = document.getElementById(prefix + "-empty-form");
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var max = document.getElementById("id_" + prefix + "-MAX_NUM_FORMS");
    if (!container || !template || !total) {
      return;
    }
    button.classList.remove("d-none");
    button.addEventListener("click", function () {
      var index = parseInt(total.value, 10);
      if (max && index >= parseInt(max.value, 10)) {
        button.disabled = true;
        return;
      }
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      container.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      var added = container.lastElementChild;
      var first = added && added.querySelector("select, input");
      if (first) {
        first.focus();
      }
      container.dispatchEvent(new CustomEvent("formset:added", { bubbles: true }));
    });
  });
})();
