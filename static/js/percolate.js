// Percolate's own script: small enhancements only; every page works without it. Loaded as a file, never
// inline, so the Content-Security-Policy can forbid inline script.
document.addEventListener("change", (event) => {
  const master = event.target.closest("[data-select-all]");
  if (!master) return;
  document.querySelectorAll(master.dataset.selectAll).forEach((box) => {
    box.checked = master.checked;
  });
});
