// The lead list's row selection and confirmations. The table is swapped by htmx when the
// filters change, so every listener is on the document.
(function () {
  "use strict";

  function rowBoxes() {
    return Array.prototype.slice.call(document.querySelectorAll('input[name="lead"][form="bulk-form"]'));
  }

  function refresh() {
    var boxes = rowBoxes();
    var chosen = boxes.filter(function (box) { return box.checked; }).length;
    var label = document.querySelector("[data-selected-count]");
    if (label) {
      label.textContent = chosen ? chosen + " row" + (chosen === 1 ? "" : "s") + " chosen" : "The rows chosen";
    }
    var all = document.querySelector("[data-select-page]");
    if (all) {
      all.checked = boxes.length > 0 && chosen === boxes.length;
      all.indeterminate = chosen > 0 && chosen < boxes.length;
    }
    if (chosen) {
      var selected = document.querySelector('#bulk-form input[name="scope"][value="selected"]');
      if (selected && !document.querySelector('#bulk-form input[name="scope"][value="matching"]:checked')) {
        selected.checked = true;
      }
    }
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("[data-select-page]")) {
      rowBoxes().forEach(function (box) { box.checked = target.checked; });
      refresh();
    } else if (target.matches && target.matches('input[name="lead"]')) {
      refresh();
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  // The filter form re-fetches the table on every change (leaving the search box is one), so
  // the rows chosen are carried over a swap when they are still listed.
  var carried = [];
  document.addEventListener("htmx:beforeSwap", function () {
    carried = rowBoxes().filter(function (box) { return box.checked; }).map(function (box) { return box.value; });
  });
  document.addEventListener("htmx:afterSwap", function () {
    rowBoxes().forEach(function (box) {
      if (carried.indexOf(box.value) !== -1) { box.checked = true; }
    });
    carried = [];
    refresh();
  });
})();
