// The AE's pages (inbox, opportunity): live SLA countdowns and closing a row's panel.
// Everything else is htmx. The countdown format matches sdr/views.py and queue.js.
(() => {
  "use strict";
  const root = document.getElementById("inbox") || document.getElementById("opportunity");
  const riskMs = Number((root && root.dataset.riskMinutes) || 60) * 60_000;
  const pad = (n) => String(n).padStart(2, "0");

  function span(ms) {
    const s = Math.floor(Math.abs(ms) / 1000);
    const days = Math.floor(s / 86_400);
    const hours = Math.floor((s % 86_400) / 3_600);
    const minutes = Math.floor((s % 3_600) / 60);
    if (days) return `${days}d ${hours}h`;
    if (hours) return `${hours}h ${pad(minutes)}m`;
    return `${minutes}m ${pad(s % 60)}s`;
  }

  function tick() {
    const now = Date.now();
    for (const el of document.querySelectorAll("[data-due]")) {
      const left = Date.parse(el.dataset.due) - now;
      if (Number.isNaN(left)) continue;
      let state, text;
      if (el.dataset.countdown === "sla") {
        state = left <= 0 ? "breached" : left <= riskMs ? "at_risk" : "on_track";
        text = left > 0 ? `${span(left)} left` : `breached ${span(left)} ago`;
      } else {
        state = left <= 0 ? "overdue" : "due";
        text = left > 0 ? `due in ${span(left)}` : `overdue ${span(left)}`;
      }
      if (el.textContent !== text) el.textContent = text;
      el.className = `sla sla-${state}`;
    }
  }

  document.addEventListener("click", (event) => {
    const hide = event.target.closest("[data-action=hide-panel]");
    if (hide) hide.closest(".ib-panel").replaceChildren();
  });
  document.addEventListener("htmx:afterSettle", tick);
  tick();
  setInterval(tick, 1000);
})();
