// The top bar's search box (templates/search/_search_box.html): "/" focuses it, htmx fills the
// dropdown as you type, arrow keys move through the hits, Enter opens the chosen one (or, with
// none chosen, submits the form to the full results page), Escape closes the dropdown.
(function () {
  "use strict";

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function setup() {
    var form = document.querySelector("form[data-search]");
    if (!form) return;
    var input = form.querySelector("input[name=q]");
    var dropdown = form.querySelector(".search-dropdown");
    var active = -1;

    function hits() { return Array.prototype.slice.call(dropdown.querySelectorAll(".search-hit, .search-all")); }

    function mark(index) {
      var all = hits();
      all.forEach(function (hit, i) { hit.classList.toggle("active", i === index); hit.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (index >= 0 && all[index]) {
        input.setAttribute("aria-activedescendant", all[index].id || "");
        all[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function open() {
      if (!dropdown.innerHTML.trim() || !input.value.trim()) { close(); return; }
      dropdown.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function close() {
      dropdown.hidden = true;
      input.setAttribute("aria-expanded", "false");
      mark(-1);
    }

    document.addEventListener("keydown", function (event) {
      if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
      event.preventDefault();
      input.focus();
      input.select();
    });

    input.addEventListener("keydown", function (event) {
      var all = hits();
      if (event.key === "ArrowDown" && all.length) {
        event.preventDefault();
        open();
        mark(active + 1 >= all.length ? 0 : active + 1);
      } else if (event.key === "ArrowUp" && all.length) {
        event.preventDefault();
        mark(active <= 0 ? all.length - 1 : active - 1);
      } else if (event.key === "Enter" && active >= 0 && all[active] && !dropdown.hidden) {
        event.preventDefault();
        window.location.assign(all[active].href);
      } else if (event.key === "Escape") {
        if (!dropdown.hidden) { event.preventDefault(); close(); } else { input.blur(); }
      }
    });

    input.addEventListener("input", function () { if (!input.value.trim()) close(); });
    input.addEventListener("focus", function () { if (input.value.trim()) open(); });

    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail.target !== dropdown) return;
      mark(-1);
      open();
    });

    document.addEventListener("click", function (event) {
      if (!form.contains(event.target)) close();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
