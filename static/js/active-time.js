// Time on task (studies/effort.py): how long the annotation or reconciliation page is in the foreground and in
// use. The time between two signs of use (a key, a click, a scroll, the pointer moving) counts when the pause is no
// longer than the idle threshold; a longer pause, and the time the tab is hidden, do not count. What is measured
// goes to the server every half minute, when the tab is hidden and as the page goes; the server bounds each report
// by the wall time since the previous one.
(() => {
  "use strict";

  const REPORT_EVERY_MS = 30_000;
  const SIGNS_OF_USE = ["keydown", "pointerdown", "pointermove", "wheel", "scroll", "input", "focusin"];

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.querySelector("form[data-active-time]");
    if (!form) return; // the issue is not (or no longer) open to this annotator
    const idleMs = Number(form.dataset.idleSeconds) * 1000;
    const visible = () => document.visibilityState === "visible";
    // The last sign of use while the page was visible (opening it is one); null while it is hidden.
    let lastUse = visible() ? Date.now() : null;
    let measuredMs = 0; // not reported yet

    // The pause since the last sign of use counts if it was short enough.
    const closePause = (now) => {
      if (lastUse !== null && now - lastUse <= idleMs) measuredMs += now - lastUse;
    };

    const used = () => {
      if (!visible()) return;
      const now = Date.now();
      closePause(now);
      lastUse = now;
    };

    const body = (ms) => {
      const data = new URLSearchParams(new FormData(form)); // the CSRF token and the page's token
      data.set("seconds", (ms / 1000).toFixed(3));
      return data;
    };

    // A page that goes away sends a beacon (it outlives the page; its form body carries the CSRF token, as a
    // header cannot go with it); otherwise a POST, whose time is kept for the next report if it did not arrive.
    const report = (leaving) => {
      const ms = measuredMs;
      if (ms <= 0) return;
      measuredMs = 0;
      if (leaving) {
        if (!navigator.sendBeacon(form.action, body(ms))) measuredMs += ms;
        return;
      }
      fetch(form.action, { method: "POST", body: body(ms), credentials: "same-origin", keepalive: true })
        .then((response) => {
          if (response.status >= 500) measuredMs += ms;
        })
        .catch(() => {
          measuredMs += ms;
        });
    };

    const leave = () => {
      closePause(Date.now());
      lastUse = null;
      report(true);
    };

    for (const name of SIGNS_OF_USE) document.addEventListener(name, used, { capture: true, passive: true });
    document.addEventListener("visibilitychange", () => {
      if (visible()) lastUse = Date.now();
      else leave();
    });
    window.addEventListener("pagehide", leave);
    window.addEventListener("pageshow", (event) => {
      if (event.persisted && visible()) lastUse = Date.now(); // back from the browser's cache
    });
    // Submitting the issue or a decision (a form that leaves the page, not a field saved in place): the time up to
    // now goes before it does (a report after it counts only up to it).
    document.addEventListener(
      "submit",
      (event) => {
        if (event.target.matches("[hx-post], [data-active-time]")) return;
        used();
        report(true);
      },
      true,
    );
    window.setInterval(() => report(false), REPORT_EVERY_MS);
  });
})();
