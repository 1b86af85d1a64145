// The photo comparison's two views (templates/treatments/photo_compare.html): side by side
// (the page without JavaScript) and an overlay, the later photo over the earlier with a slider
// for its opacity. A static file: no inline script or style under the CSP (style set here is
// CSSOM, which the policy allows).
(function () {
  const modes = document.querySelector("[data-compare-modes]");
  const slider = document.getElementById("overlay-opacity");
  const later = document.getElementById("overlay-after");
  const value = document.getElementById("overlay-value");
  if (!modes || !slider || !later) return;
  modes.hidden = false;

  function show(mode) {
    document.querySelectorAll("[data-compare-view]").forEach((view) => {
      view.hidden = view.dataset.compareView !== mode;
    });
    modes.querySelectorAll("[data-compare-mode]").forEach((button) => {
      const on = button.dataset.compareMode === mode;
      button.classList.toggle("active", on);
      button.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }

  function fade() {
    later.style.opacity = String(slider.value / 100);
    value.textContent = `${slider.value}%`;
  }

  modes.addEventListener("click", (event) => {
    const button = event.target.closest("[data-compare-mode]");
    if (button) show(button.dataset.compareMode);
  });
  slider.addEventListener("input", fade);
  fade();
})();
