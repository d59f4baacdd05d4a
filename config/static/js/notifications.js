// The bell's unread count: htmx fetches it when the page loads and on a "refresh" event; this
// sends that event every 30 seconds while the tab is visible, and at once when it becomes
// visible again. The answer carries an ETag, so an unchanged count costs a 304.
(function () {
  "use strict";
  var PERIOD = 30000;

  function refresh() {
    var count = document.getElementById("bell-count");
    if (count && window.htmx && document.visibilityState === "visible") {
      window.htmx.trigger(count, "refresh");
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!document.getElementById("bell-count")) return;
    window.setInterval(refresh, PERIOD);
    document.addEventListener("visibilitychange", refresh);
  });
})();
