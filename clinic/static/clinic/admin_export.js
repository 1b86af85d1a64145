// The export page's "Select all" box (templates/admin/import_export/export.html): ticks or
// clears every field, as django-import-export's inline handler did.
document.addEventListener("DOMContentLoaded", () => {
  const toggle = document.querySelector(".select-toggle");
  if (toggle && typeof onSelectToggleChange === "function") {
    toggle.addEventListener("change", onSelectToggleChange);
  }
});
