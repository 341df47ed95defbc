// Percolate's own script: small enhancements only; every page works without it. Loaded as a file, never
// inline, so the Content-Security-Policy can forbid inline script.
document.addEventListener("change", (event) => {
  const master = event.target.closest("[data-select-all]");
  if (!master) return;
  document.querySelectorAll(master.dataset.selectAll).forEach((box) => {
    box.checked = master.checked;
  });
});

// The queue's bulk form: show the fields of the chosen action only.
function showBulkInputs(select) {
  select.form.querySelectorAll("[data-bulk-action]").forEach((fieldset) => {
    fieldset.hidden = fieldset.dataset.bulkAction !== select.value;
  });
}
document.addEventListener("change", (event) => {
  if (event.target.matches("#bulk select[name=action]")) showBulkInputs(event.target);
});
document.addEventListener("DOMContentLoaded", () => {
  const select = document.querySelector("#bulk select[name=action]");
  if (select) showBulkInputs(select);
});

// The import page: while the form is being processed, poll the server for the rows imported so far.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("[data-import-progress]");
  if (!form) return;
  const status = form.querySelector(".import-progress");
  const bar = status.querySelector("progress");
  const text = status.querySelector("span");
  status.hidden = false;
  const poll = async () => {
    try {
      const response = await fetch(form.dataset.importProgress, { credentials: "same-origin" });
      const state = await response.json();
      if (state.total > 0) {
        bar.max = state.total;
        bar.value = state.done;
        text.textContent = `${state.done.toLocaleString()} of about ${state.total.toLocaleString()} rows read`;
      }
    } catch (error) {
      // The page is being replaced by the import's report; nothing to show.
    }
  };
  setInterval(poll, 700);
});

// The rule form: show the agency or indicator field only when the chosen scope needs it (without
// JavaScript both show, and the one the scope does not need is ignored).
function showScopeFields(select) {
  select.form.querySelectorAll("[data-for-scope]").forEach((field) => {
    field.hidden = field.dataset.forScope !== select.value;
  });
}
document.addEventListener("change", (event) => {
  if (event.target.matches("[data-rule-form] select[name=scope]")) showScopeFields(event.target);
});
document.addEventListener("DOMContentLoaded", () => {
  const select = document.querySelector("[data-rule-form] select[name=scope]");
  if (select) showScopeFields(select);
});

// The header's search box: Escape closes the suggestions (the box keeps what was typed).
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || !event.target.closest(".site-search")) return;
  const suggestions = document.getElementById("search-suggestions");
  if (suggestions) suggestions.replaceChildren();
});

// A list of checkboxes to pick several from (a project's agencies): a box above it keeps only the options
// whose label holds what is typed; the checked ones stay checked, hidden or not.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("div.pick-many").forEach((list) => {
    const filter = document.createElement("input");
    filter.type = "search";
    filter.placeholder = "Filter…";
    filter.setAttribute("aria-label", "Filter the list below");
    filter.setAttribute("aria-controls", list.id);
    filter.className = "pick-many-filter";
    list.before(filter);
    filter.addEventListener("input", () => {
      const wanted = filter.value.trim().toLowerCase();
      list.querySelectorAll("label").forEach((label) => {
        label.closest("div").hidden = wanted !== "" && !label.textContent.toLowerCase().includes(wanted);
      });
    });
  });
});

// The queue's filters on a phone: folded under their summary, so that the cases come first (one tap opens
// them). A refused form (a field in error) stays open; without JavaScript they stay open.
document.addEventListener("DOMContentLoaded", () => {
  if (!window.matchMedia("(max-width: 600px)").matches) return;
  document.querySelectorAll("details[data-fold-on-phone]").forEach((panel) => {
    if (!panel.querySelector(".has-error")) panel.open = false;
  });
});

// A table wider than the screen scrolls inside its box (.table-wrap): that box is then given a tab stop and a
// name (its table's caption), so that the keyboard can scroll it too. Only when it does scroll: a box that
// fits needs no tab stop.
function focusableWhenScrolling() {
  document.querySelectorAll(".table-wrap").forEach((box) => {
    if (box.scrollWidth > box.clientWidth + 1) {
      box.tabIndex = 0;
      box.setAttribute("role", "region");
      const caption = box.querySelector("caption");
      box.setAttribute("aria-label", caption ? caption.textContent.trim() : "Table");
    } else if (box.getAttribute("role") === "region") {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
    }
  });
}
document.addEventListener("DOMContentLoaded", focusableWhenScrolling);
window.addEventListener("resize", focusableWhenScrolling);
