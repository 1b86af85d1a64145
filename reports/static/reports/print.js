// The printout's "Print this sheet" button (a static file: no inline handlers under the CSP).
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
