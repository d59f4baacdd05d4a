// The SDR's queue: keys to move and work it (countdowns are countdown.js's). No dependencies.
//   j / k  next / previous row      l  log a touch on the selected row
//   e      email the selected row's lead (the composer opens in the row's panel)
//   o      open the lead's page     ?  show or hide the keys      Esc  close the form or help
(() => {
  "use strict";
  const root = document.getElementById("queue");
  if (!root) return;
  let index = 0;

  const rows = () => [...document.querySelectorAll("#queue-list > .q-row")];
  const current = () => rows()[index];

  function select(i, { scroll = true } = {}) {
    const all = rows();
    if (!all.length) return;
    index = Math.max(0, Math.min(i, all.length - 1));
    all.forEach((row, n) => {
      row.classList.toggle("selected", n === index);
      if (n === index) row.setAttribute("aria-current", "true");
      else row.removeAttribute("aria-current");
    });
    if (scroll) all[index].scrollIntoView({ block: "nearest" });
  }

  // The first field of the form that has errors, else the chosen kind of touch. In the
  // composer: the field with an error, else Send after a preview, else the template.
  function focusPanel(row) {
    const composer = row.querySelector(".q-panel .composer");
    if (composer) {
      const field =
        composer.querySelector(".has-errors :is(input, select, textarea)") ||
        (composer.querySelector(".mail-preview") && composer.querySelector("button[value=send]:not([disabled])")) ||
        composer.querySelector("select, input:not([type=hidden]), textarea");
      if (field) field.focus();
      return;
    }
    const form = row.querySelector(".q-panel form:has(.errorlist)") || row.querySelector(".q-panel form");
    if (!form) return;
    const field =
      form.querySelector("input:checked") || form.querySelector("input:not([type=hidden]), select, textarea");
    if (field) field.focus();
  }

  function openPanel(row, action) {
    if (!row) return;
    const panel = row.querySelector(".q-panel");
    const open = panel && panel.firstElementChild;
    // The same panel open again: focus it; the other one replaces it.
    if (open && !!panel.querySelector(".composer") === (action === "email")) return focusPanel(row);
    const button = row.querySelector(`[data-action=${action}]`);
    if (button) button.click(); // htmx fetches the forms; they get the focus when they settle
  }

  function closePanel(row) {
    const panel = row && row.querySelector(".q-panel");
    if (!panel || !panel.firstElementChild) return false;
    panel.replaceChildren();
    return true;
  }

  function toggleHelp() {
    const help = document.getElementById("queue-help");
    if (!help) return;
    if (help.open) help.close();
    else help.showModal();
  }

  const typing = (el) =>
    el instanceof HTMLElement && (el.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName));

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape") {
      const help = document.getElementById("queue-help");
      if (help && help.open) return; // the dialog closes itself
      const row = (event.target.closest && event.target.closest(".q-row")) || current();
      // A draft is not thrown away by one key: the first Esc leaves the composer's field.
      if (typing(event.target) && event.target.closest(".composer")) {
        event.target.blur();
        event.preventDefault();
        return;
      }
      if (closePanel(row)) {
        select(rows().indexOf(row), { scroll: false });
        event.preventDefault();
      }
      return;
    }
    if (typing(event.target)) return;
    const help = document.getElementById("queue-help");
    if (help && help.open && event.key !== "?") return;
    switch (event.key) {
      case "j":
        select(index + 1);
        break;
      case "k":
        select(index - 1);
        break;
      case "l":
        if (root.hasAttribute("data-read-only")) return;
        openPanel(current(), "log");
        break;
      case "e":
        if (root.hasAttribute("data-read-only")) return;
        openPanel(current(), "email");
        break;
      case "o": {
        const url = current() && current().dataset.leadUrl;
        if (url) window.location.assign(url);
        break;
      }
      case "?":
        toggleHelp();
        break;
      default:
        return;
    }
    event.preventDefault();
  });

  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-action=help]")) return toggleHelp();
    const row = event.target.closest(".q-row");
    if (!row) return;
    if (event.target.closest("[data-action=close]")) closePanel(row);
    select(rows().indexOf(row), { scroll: false });
  });

  // After a swap: keep the selection where it was, restart the countdowns, focus new forms.
  document.addEventListener("htmx:afterSettle", (event) => {
    const el = event.target;
    const row = el.closest && el.closest(".q-row");
    if (row) index = rows().indexOf(row);
    select(index, { scroll: false });
    window.refineryCountdown.tick();
    if (row && (el.classList.contains("q-panel") || row.querySelector(".q-panel .errorlist"))) {
      focusPanel(row);
    }
  });

  // A live update (live.js) replaced the list: keep the selection on the same lead's row.
  let selectedId = null;
  root.addEventListener("live:swapped", () => {
    const all = rows();
    const same = all.findIndex((row) => row.id === selectedId);
    select(same >= 0 ? same : Math.min(index, all.length - 1), { scroll: false });
  });
  root.addEventListener("live:swapping", () => (selectedId = current() ? current().id : null));

  select(0, { scroll: false });
})();
