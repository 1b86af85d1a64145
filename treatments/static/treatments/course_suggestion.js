// The start-course form: as concerns are ticked, or the sessions, interval or device change, ask
// the server for the catalogue's suggestion for the concerns ticked (treatments:course-suggestion,
// a fragment of the page drawn by includes/course_suggestion.html) and show it in place. Fields
// the practitioner has not typed in follow the suggestion. Without this script the form's
// "Update the suggestion" button does the same through a submission, and the server checks
// the course when it is started either way.
(function () {
  "use strict";
  var form = document.getElementById("course-form");
  var panel = document.getElementById("course-suggestion");
  if (!form || !panel || !window.fetch || !window.DOMParser) {
    return;
  }
  var url = panel.dataset.url;
  var fields = {
    planned_sessions: form.elements.namedItem("planned_sessions"),
    interval_weeks: form.elements.namedItem("interval_weeks"),
    device: form.elements.namedItem("device"),
  };
  var suggested = { planned_sessions: "sessions", interval_weeks: "interval", device: "device" };
  // A form shown again after a refusal holds what the practitioner chose: keep all of it.
  var typed = {};
  Object.keys(fields).forEach(function (name) {
    typed[name] = form.hasAttribute("data-bound");
  });
  var asked = 0;
  var timer = null;

  var refresh = form.querySelector("[data-refresh-suggestion]");
  if (refresh) {
    refresh.hidden = true;
  }

  function query() {
    var params = new URLSearchParams();
    form.querySelectorAll('input[name="concerns"]:checked').forEach(function (box) {
      params.append("concerns", box.value);
    });
    Object.keys(fields).forEach(function (name) {
      var field = fields[name];
      if (field && typed[name]) {
        params.append(name, field.value);
      }
    });
    return params.toString();
  }

  function show(html) {
    var fresh = new DOMParser()
      .parseFromString(html, "text/html")
      .getElementById("course-suggestion");
    if (!fresh) {
      return;
    }
    Object.keys(fields).forEach(function (name) {
      var field = fields[name];
      if (field && !typed[name]) {
        field.value = fresh.dataset[suggested[name]] || "";
      }
    });
    panel.replaceWith(fresh);
    panel = fresh;
  }

  function update() {
    var mine = ++asked;
    fetch(url + "?" + query(), {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("suggestion: HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        if (mine === asked) {
          show(html);
        }
      })
      .catch(function () {
        // The page keeps the last suggestion; starting the course is checked on the server.
        if (refresh) {
          refresh.hidden = false;
        }
      });
  }

  function soon() {
    window.clearTimeout(timer);
    timer = window.setTimeout(update, 250);
  }

  form.addEventListener("change", function (event) {
    var name = event.target.name;
    if (name === "concerns") {
      update();
    } else if (Object.prototype.hasOwnProperty.call(fields, name)) {
      typed[name] = true;
      soon();
    }
  });
  form.addEventListener("input", function (event) {
    var name = event.target.name;
    if (name === "planned_sessions" || name === "interval_weeks") {
      typed[name] = true;
      soon();
    }
  });
})();
