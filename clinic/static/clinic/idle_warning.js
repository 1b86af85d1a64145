// The warning before the idle logoff (clinic.middleware.IdleLogoffMiddleware). The page says
// how many seconds its session has left; a couple of minutes before they run out the warning
// offers "Stay signed in", which posts to a small view that moves the deadline on. Tabs share
// the latest deadline through localStorage, so activity in one tab is seen by the others.
// When time runs out the page goes to the sign-in page, unless something was typed into a form
// here: then it stays, and saving it keeps the entry through the sign-in.
(function () {
  "use strict";
  var box = document.getElementById("idle-warning");
  if (!box || !window.fetch) {
    return;
  }
  var KEY = "clinic-idle-deadline";
  var warnMs = parseFloat(box.dataset.warnSeconds) * 1000;
  var deadline = Date.now() + parseFloat(box.dataset.secondsLeft) * 1000;
  var text = box.querySelector("[data-idle-text]");
  var minutes = box.querySelector("[data-idle-minutes]");
  var form = box.querySelector("form[data-stay-signed-in]");
  var typed = false;
  var signedOut = false;
  var timer = null;

  function shared() {
    try {
      return parseInt(window.localStorage.getItem(KEY) || "0", 10) || 0;
    } catch (error) {
      return 0;
    }
  }

  function share(value) {
    try {
      window.localStorage.setItem(KEY, String(value));
    } catch (error) {
      // Private browsing without storage: this tab keeps its own deadline.
    }
  }

  function showSignedOut() {
    signedOut = true;
    window.clearInterval(timer);
    text.textContent = text.dataset.signedOutText;
    form.hidden = true;
    box.hidden = false;
  }

  function tick() {
    deadline = Math.max(deadline, shared());
    var left = deadline - Date.now();
    if (left <= 0) {
      if (typed) {
        showSignedOut();
      } else {
        // Nothing to keep: leave no client record on an unattended screen.
        window.clearInterval(timer);
        window.location.assign(
          box.dataset.loginUrl + "?next=" + encodeURIComponent(location.pathname + location.search)
        );
      }
      return;
    }
    if (left > warnMs) {
      box.hidden = true;
      return;
    }
    var count = Math.ceil(left / 60000);
    var words = count === 1 ? "1 minute" : count + " minutes";
    if (minutes.textContent !== words) {
      minutes.textContent = words; // changed once a minute, so screen readers are not flooded
    }
    box.hidden = false;
  }

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target.form && target.form !== form && target.form.method === "post") {
      typed = true;
    }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.ok ? response.json() : { signed_in: false };
      })
      .then(function (answer) {
        if (!answer.signed_in) {
          showSignedOut();
          return;
        }
        deadline = Date.now() + answer.seconds_left * 1000;
        share(deadline);
        tick();
      })
      .catch(function () {
        form.submit(); // the server did not answer the script: post the form itself
      });
  });

  window.addEventListener("storage", function (event) {
    if (event.key === KEY && !signedOut) {
      tick();
    }
  });

  share(deadline);
  timer = window.setInterval(tick, 1000);
  tick();
})();
