// Puts back what was typed into a form when the session had ended (kept by
// clinic.middleware.KeepTypedWorkMiddleware while its author signed in again). The entry is
// only shown, never saved: the practitioner checks it and saves it. Rows that were added to a
// formset are added again first ("Add another", treatments/formsets.js, runs before this).
(function () {
  "use strict";
  var data = document.getElementById("kept-form");
  var notice = document.getElementById("kept-form-notice");
  if (!data) {
    return;
  }
  var kept = {};
  JSON.parse(data.textContent).forEach(function (pair) {
    kept[pair[0]] = pair[1];
  });
  var MANAGEMENT = /-(TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS$/;

  // The page's posted form that names the most of the kept fields.
  var form = null;
  var best = 0;
  Array.prototype.forEach.call(document.forms, function (candidate) {
    if (candidate.method !== "post" || candidate.hasAttribute("data-stay-signed-in")) {
      return;
    }
    var score = Object.keys(kept).filter(function (name) {
      return candidate.elements.namedItem(name) !== null;
    }).length;
    if (score > best) {
      best = score;
      form = candidate;
    }
  });
  if (!form) {
    return;
  }

  Object.keys(kept).forEach(function (name) {
    var match = /^(.*)-TOTAL_FORMS$/.exec(name);
    var total = match && form.elements.namedItem(name);
    var button = match && document.querySelector('[data-add-row="' + match[1] + '"]');
    if (!total || !button) {
      return;
    }
    var missing = parseInt(kept[name][0], 10) - parseInt(total.value, 10);
    for (var i = 0; i < missing && !button.disabled; i += 1) {
      button.click();
    }
  });

  var seen = {};
  Array.prototype.forEach.call(form.elements, function (field) {
    var name = field.name;
    if (
      !name ||
      /^(file|submit|button|reset)$/.test(field.type) ||
      name === "csrfmiddlewaretoken" ||
      MANAGEMENT.test(name)
    ) {
      return;
    }
    var values = kept[name];
    if (field.type === "checkbox" || field.type === "radio") {
      // Unticked boxes are not posted: absent means unticked.
      field.checked = values !== undefined && values.indexOf(field.value) !== -1;
    } else if (values === undefined) {
      return;
    } else if (field.type === "select-multiple") {
      Array.prototype.forEach.call(field.options, function (option) {
        option.selected = values.indexOf(option.value) !== -1;
      });
    } else {
      var index = seen[name] || 0;
      seen[name] = index + 1;
      if (index >= values.length) {
        return;
      }
      field.value = values[index];
    }
    field.dispatchEvent(new Event("input", { bubbles: true }));
    field.dispatchEvent(new Event("change", { bubbles: true }));
  });

  if (notice) {
    notice.hidden = false;
  }
})();
