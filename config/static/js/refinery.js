// Refinery's few lines of page behaviour (no build step).

// Filter forms send only the fields that are set, so pushed URLs stay short and shareable.
document.addEventListener("htmx:configRequest", (event) => {
  if (event.detail.verb !== "get") return;
  const params = event.detail.formData;
  if (!params) return;
  for (const key of [...new Set(params.keys())]) {
    if (params.getAll(key).every((value) => value === "")) params.delete(key);
  }
});

// A checkbox list folded into <details> says in its summary how many are ticked.
document.addEventListener("change", (event) => {
  const details = event.target.closest("details");
  if (!details || event.target.type !== "checkbox") return;
  const ticked = details.querySelectorAll("input[type=checkbox]:checked").length;
  details.querySelector("summary").textContent = ticked ? `${ticked} selected` : "Any status";
});

// ...and closes when the user clicks anywhere else, like a menu.
document.addEventListener("click", (event) => {
  for (const open of document.querySelectorAll("details[open]")) {
    if (!open.contains(event.target)) open.removeAttribute("open");
  }
});
