// Live pages (the SDR queue, the AE inbox, the AM's expansion leads): the page asks its live
// endpoint every few seconds whether what it shows changed, sending the version it has
// (If-None-Match). The answer is 304 while nothing changed, else the fragment and its new
// version (kit/live.py). No dependencies; htmx (when loaded) wires the new fragment's forms.
//
// The container says what to do (data attributes):
//   data-live-url       the endpoint          data-live-etag      the version the page shows
//   data-live-interval  seconds between asks  data-live-rows      selector of the item rows (with ids)
//   data-live-busy      selector: while it matches inside the container (an open form), the
//                       list is not replaced under the person's hands; a notice offers it instead
//   data-live-news      id of the role=status notice   data-live-noun  "lead", "handoff", ...
// Elements of the fragment marked data-live-always (counts) are replaced at once, busy or not.
//
// Polling stops while the tab is hidden and resumes at once when it is shown or focused;
// errors back off (doubling, up to five minutes). New rows are highlighted (.live-new) and,
// when the person turned it on (remembered in this browser), a short beep sounds.
(() => {
  "use strict";
  const root = document.querySelector("[data-live-url]");
  if (!root) return;

  const url = root.dataset.liveUrl;
  const every = Math.max(0.2, Number(root.dataset.liveInterval) || 15) * 1000;
  const rowsSelector = root.dataset.liveRows || "[id]";
  const busySelector = root.dataset.liveBusy || "";
  const news = document.getElementById(root.dataset.liveNews || "");
  const noun = root.dataset.liveNoun || "item";
  const MAX_DELAY = 300_000;
  const SOUND_KEY = "refinery.live.sound";

  let etag = root.dataset.liveEtag || "";
  let delay = every;
  let timer = null;
  let asking = false;
  let stale = false; // a change arrived while the person was busy: fetch it afresh when they are done
  let lastAsked = 0;
  let newsTimer = null;

  const idsIn = (el) => [...el.querySelectorAll(rowsSelector)].map((row) => row.id).filter(Boolean);

  function busy() {
    if (busySelector && root.querySelector(busySelector)) return true;
    const active = document.activeElement;
    return !!(active && root.contains(active) && active.matches("input, select, textarea, [contenteditable]"));
  }

  const plural = (n) => `${n} new ${noun}${n === 1 ? "" : "s"}`;

  function tell(text, { offer = false } = {}) {
    if (!news) return;
    clearTimeout(newsTimer);
    news.replaceChildren(document.createTextNode(text));
    if (offer) {
      const show = document.createElement("button");
      show.type = "button";
      show.className = "link";
      show.textContent = "Show them";
      show.addEventListener("click", () => ask({ fresh: true, force: true }));
      news.append(" ", show);
    } else {
      newsTimer = setTimeout(() => (news.hidden = true), 60_000);
    }
    news.hidden = false;
  }

  // --- the optional sound ------------------------------------------------------------------
  const soundButton = document.querySelector("[data-live-sound]");
  let audio = null;
  const soundOn = () => {
    try {
      return window.localStorage.getItem(SOUND_KEY) === "on";
    } catch {
      return false;
    }
  };
  function showSound() {
    if (!soundButton) return;
    const on = soundOn();
    soundButton.setAttribute("aria-pressed", on ? "true" : "false");
    soundButton.textContent = on ? "Sound: on" : "Sound: off";
  }
  function context() {
    const Audio = window.AudioContext || window.webkitAudioContext;
    if (!audio && Audio) audio = new Audio();
    if (audio && audio.state === "suspended") audio.resume();
    return audio;
  }
  function beep() {
    if (!soundOn()) return;
    const ctx = context();
    if (!ctx) return;
    const t = ctx.currentTime;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = "sine";
    osc.frequency.setValueAtTime(880, t);
    osc.frequency.setValueAtTime(1320, t + 0.09);
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.15, t + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.2);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t);
    osc.stop(t + 0.22);
    if (soundButton) soundButton.dataset.beeps = String(Number(soundButton.dataset.beeps || 0) + 1);
  }
  if (soundButton) {
    showSound();
    soundButton.addEventListener("click", () => {
      try {
        window.localStorage.setItem(SOUND_KEY, soundOn() ? "off" : "on");
      } catch {
        return; // storage refused (private mode): the sound stays off
      }
      showSound();
      beep(); // a sample, and browsers start audio only from a click like this one
    });
    // Browsers keep audio suspended until the person interacts with the page.
    const unlock = () => soundOn() && context();
    document.addEventListener("pointerdown", unlock, { once: true });
    document.addEventListener("keydown", unlock, { once: true });
  }

  // --- applying a fragment -----------------------------------------------------------------
  function replaceAlways(fragment) {
    fragment.querySelectorAll("[data-live-always][id]").forEach((fresh) => {
      const shown = document.getElementById(fresh.id);
      if (shown) shown.replaceWith(fresh.cloneNode(true));
    });
  }

  function apply(fragment, added) {
    root.dispatchEvent(new CustomEvent("live:swapping", { bubbles: true }));
    root.replaceChildren(...fragment.childNodes);
    added.forEach((id) => {
      const row = document.getElementById(id);
      if (row) row.classList.add("live-new");
    });
    if (window.htmx) window.htmx.process(root);
    if (window.refineryCountdown) window.refineryCountdown.tick();
    root.dispatchEvent(new CustomEvent("live:swapped", { bubbles: true, detail: { added } }));
  }

  function receive(html, { force = false } = {}) {
    const template = document.createElement("template");
    template.innerHTML = html;
    const fragment = template.content;
    const shown = new Set(idsIn(root));
    const added = idsIn(fragment).filter((id) => !shown.has(id));
    if (busy() && !force) {
      replaceAlways(fragment);
      stale = true;
      if (added.length) tell(`${plural(added.length)}.`, { offer: true });
    } else {
      stale = false;
      apply(fragment, added);
      if (added.length) tell(`${plural(added.length)}, highlighted below.`);
      else if (news && news.querySelector("button")) news.hidden = true;
    }
    if (added.length) beep();
  }

  // --- asking --------------------------------------------------------------------------------
  function schedule(ms) {
    clearTimeout(timer);
    timer = document.hidden ? null : setTimeout(() => ask(), ms);
  }

  async function ask({ fresh = false, force = false } = {}) {
    if (asking || document.hidden) return;
    // The person is done with the form they had open: bring the list up to date now.
    if (stale && !busy()) fresh = true;
    asking = true;
    lastAsked = Date.now();
    try {
      const headers = { Accept: "text/html" };
      if (etag && !fresh) headers["If-None-Match"] = etag;
      const response = await fetch(url, {
        headers,
        cache: "no-store",
        credentials: "same-origin",
        redirect: "manual", // signed out: the login page is not a fragment
      });
      if (response.status === 304) {
        delay = every;
      } else if (response.ok && response.headers.get("ETag")) {
        const html = await response.text();
        etag = response.headers.get("ETag");
        root.dataset.liveEtag = etag;
        receive(html, { force });
        delay = every;
      } else {
        throw new Error(`live: ${response.status || response.type}`);
      }
    } catch {
      delay = Math.min(delay * 2, MAX_DELAY);
    } finally {
      asking = false;
      schedule(delay);
    }
  }

  document.addEventListener("visibilitychange", () => {
    if (document.hidden) {
      clearTimeout(timer);
      timer = null;
    } else {
      delay = every;
      ask();
    }
  });
  window.addEventListener("focus", () => {
    if (Date.now() - lastAsked > 2000) ask();
  });
  // The person's own refresh (htmx) brought the list up to date.
  root.addEventListener("htmx:afterSwap", (event) => {
    if (event.target === root) stale = false;
  });

  schedule(every);
})();
