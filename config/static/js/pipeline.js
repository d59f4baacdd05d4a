// The AE's pages (inbox, opportunity): closing a row's panel. Countdowns are countdown.js's;
// everything else is htmx. Below: the pipeline board's drag and drop and keyboard moves.
(() => {
  "use strict";
  document.addEventListener("click", (event) => {
    const hide = event.target.closest("[data-action=hide-panel]");
    if (hide) hide.closest(".ib-panel").replaceChildren();
  });
})();

// The pipeline board: cards move by drag and drop (HTML5) or with the keyboard, both through
// the card's own move form (accounts:move), so a refusal comes back the same way: the card,
// in place, with the reason. A move answers with the two columns it changed (their totals
// too) and a line for the board's live region; the moved card then takes the focus.
(() => {
  "use strict";
  const board = () => document.getElementById("board");
  let dragged = null; // the card being dragged
  let focusAfter = null; // the id of the card to focus once its move has been swapped in
  let moving = null; // the card element a move was sent from

  const columnOf = (element) => (element && element.closest ? element.closest(".col[data-drop]") : null);

  function move(card, column) {
    if (!card || !column || column.contains(card)) return;
    if (column.dataset.drop === "lost") {
      // A loss needs its reason: the card opens its lost form where it is.
      const lost = card.querySelector("[data-action=lost]");
      if (lost) lost.click();
      return;
    }
    const form = card.querySelector("form.oc-move");
    const select = form && form.querySelector("select[name=stage]");
    if (!select) return;
    select.value = column.dataset.stage;
    if (select.value !== column.dataset.stage) return; // not a stage this card may move to
    focusAfter = card.id;
    form.requestSubmit();
  }

  document.addEventListener("dragstart", (event) => {
    const card = event.target.closest && event.target.closest(".opp-card[draggable=true]");
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.id);
    card.classList.add("dragging");
  });
  document.addEventListener("dragend", () => {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    document.querySelectorAll(".col.drop-target").forEach((c) => c.classList.remove("drop-target"));
  });
  document.addEventListener("dragover", (event) => {
    const column = columnOf(event.target);
    if (!dragged || !column || column.contains(dragged)) return;
    event.preventDefault(); // accept the drop
    event.dataTransfer.dropEffect = "move";
    document.querySelectorAll(".col.drop-target").forEach((c) => c !== column && c.classList.remove("drop-target"));
    column.classList.add("drop-target");
  });
  document.addEventListener("dragleave", (event) => {
    const column = columnOf(event.target);
    if (column && !column.contains(event.relatedTarget)) column.classList.remove("drop-target");
  });
  document.addEventListener("drop", (event) => {
    const column = columnOf(event.target);
    if (!dragged || !column) return;
    event.preventDefault();
    column.classList.remove("drop-target");
    move(dragged, column);
  });

  // The stage list moves the card when a pointer picks a stage. From the keyboard the arrows
  // only choose (Chrome changes a closed list's value on each arrow key); the Move button, or
  // Enter, moves.
  document.addEventListener("keydown", (event) => {
    const select = event.target.closest && event.target.closest("form.oc-move select");
    if (select) {
      select.dataset.keyed = "1";
      if (event.key === "Enter") {
        event.preventDefault();
        focusAfter = select.closest(".opp-card").id;
        select.form.requestSubmit();
      }
      return;
    }
    const card = event.target.classList && event.target.classList.contains("opp-card") ? event.target : null;
    if (card && (event.key === "m" || event.key === "M") && !event.ctrlKey && !event.metaKey && !event.altKey) {
      const choose = card.querySelector("form.oc-move select");
      if (choose) {
        event.preventDefault();
        choose.focus();
      }
    }
  });
  document.addEventListener("pointerdown", (event) => {
    const select = event.target.closest && event.target.closest("form.oc-move select");
    if (select) delete select.dataset.keyed;
  });
  document.addEventListener("change", (event) => {
    const select = event.target.closest && event.target.closest("form.oc-move select");
    if (!select || select.dataset.keyed) return;
    focusAfter = select.closest(".opp-card").id;
    select.form.requestSubmit();
  });
  document.addEventListener("submit", (event) => {
    const form = event.target.closest && event.target.closest("form.oc-move");
    if (!form) return;
    moving = form.closest(".opp-card");
    focusAfter = moving.id;
  });

  document.addEventListener("htmx:afterSettle", () => {
    // The columns that come back are the ones the database knew: had another tab moved the
    // card meanwhile, the card shown in a third column is stale; it goes.
    if (moving && moving.isConnected && document.querySelectorAll(`[id="${moving.id}"]`).length > 1) {
      moving.remove();
    }
    if (!focusAfter || !board()) return;
    const card = document.getElementById(focusAfter);
    focusAfter = null;
    if (card) card.focus();
  });
})();
