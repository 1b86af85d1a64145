// A "Print" button (data-print-page) opens the browser's print dialog. The button stays hidden
// without JavaScript, where the browser's own Print does the same.
document.querySelectorAll("[data-print-page]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
