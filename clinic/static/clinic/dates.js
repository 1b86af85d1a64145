// Date pickers show the browser's own format (a tablet set to US English shows mm/dd/yyyy).
// Beside each one, the date as the clinic writes it ("6 Dec 2026"), so a day and a month are
// never mistaken for each other.
(function () {
  "use strict";
  const format = new Intl.DateTimeFormat("en-GB", {
    weekday: "short", day: "numeric", month: "short", year: "numeric", timeZone: "UTC",
  });
  function show(input, echo) {
    const value = input.value;  // yyyy-mm-dd whatever the picker shows
    const day = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(value + "T00:00:00Z") : null;
    echo.textContent = day && !isNaN(day) ? format.format(day).replace(",", "") : "";
  }
  for (const input of document.querySelectorAll('input[type="date"]')) {
    const echo = document.createElement("div");
    echo.className = "form-text date-echo";
    echo.setAttribute("aria-live", "polite");
    echo.id = (input.id || input.name) + "-as-written";
    input.insertAdjacentElement("afterend", echo);
    show(input, echo);
    input.addEventListener("input", () => show(input, echo));
    input.addEventListener("change", () => show(input, echo));
  }
})();
