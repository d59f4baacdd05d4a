// The AE's pages (inbox, opportunity): closing a row's panel. Countdowns are countdown.js's;
// everything else is htmx.
(() => {
  "use strict";
  document.addEventListener("click", (event) => {
    const hide = event.target.closest("[data-action=hide-panel]");
    if (hide) hide.closest(".ib-panel").replaceChildren();
  });
})();
