// Live countdowns, once a second, for every element with data-due (the SDR queue, the AE's
// inbox and opportunity pages). data-countdown="sla" counts an SLA down to its breach (at risk
// within the page's data-risk-minutes); anything else counts to a due time. The format,
// "1d 4h", "2h 05m" or "12m 30s", matches sdr/views.py. Time is the server's (base.html).
(() => {
  "use strict";
  const root = document.querySelector("[data-risk-minutes]");
  const riskMs = Number((root && root.dataset.riskMinutes) || 60) * 60_000;
  const pad = (n) => String(n).padStart(2, "0");
  // The server's clock, not the browser's, says how long is left: the page carries the server's
  // time when it was rendered, and the browser only measures how much has passed since (a laptop
  // whose clock is minutes off would otherwise show a breach that is not there, or hide one).
  const serverNow = Date.parse(document.body.dataset.serverNow);
  const skew = Number.isNaN(serverNow) ? 0 : serverNow - Date.now();

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
    const now = Date.now() + skew;
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

  window.refineryCountdown = { tick };
  document.addEventListener("htmx:afterSettle", tick);
  tick();
  setInterval(tick, 1000);
})();
