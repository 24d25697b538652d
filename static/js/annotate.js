// Keyboard shortcuts of the annotation page. A file of its own: the CSP forbids inline scripts.
(() => {
  "use strict";

  const TYPING = "input[type=text], input:not([type]), textarea, select, [contenteditable]";

  const fieldOf = (element) => element && element.closest && element.closest("form[data-field]");

  // A field's main control: its checked choice, its first choice, or its text box.
  const focusField = (form) => {
    if (!form) return;
    const control =
      form.querySelector(".choices input:checked:not([value=''])") ||
      form.querySelector(".choices input") ||
      form.querySelector("textarea, input[type=text]");
    if (control) control.focus();
  };

  const follow = (selector) => {
    const link = document.querySelector(selector);
    if (link) window.location.assign(link.href);
  };

  // Submitting waits for the saves in flight (a note typed a moment ago) so that nothing is lost.
  const submitWhenSaved = (form) => {
    if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
    const started = Date.now();
    const check = () => {
      if (document.querySelector(".htmx-request") && Date.now() - started < 5000) {
        window.setTimeout(check, 50);
      } else {
        form.submit();
      }
    };
    window.setTimeout(check, 50);
  };

  // "Keep that": a value changed in another tab wins; reloading shows it.
  document.addEventListener("click", (event) => {
    if (event.target.matches("[data-reload]")) {
      event.preventDefault();
      window.location.reload();
    }
  });

  document.addEventListener("submit", (event) => {
    if (event.target.matches("[data-submit]") && !event.target.dataset.saved) {
      event.preventDefault();
      event.target.dataset.saved = "1";
      submitWhenSaved(event.target);
    }
  });

  // Ready to type: the first field without an answer, else the first field.
  document.addEventListener("DOMContentLoaded", () => {
    if (window.location.hash) return;
    const fields = [...document.querySelectorAll("form[data-field]:not(:has(fieldset[disabled]))")];
    const open = fields.find((form) => !form.querySelector(".choices input:checked:not([value=''])"));
    focusField(open || fields[0]);
  });

  // Number keys pick the choice of that number; with Shift, of that number plus ten (⇧0 is 10, ⇧4 is 14).
  // The key's position (event.code), not its character: Shift+1 types "!".
  const numberedChoice = (field, event) => {
    const digit = /^(?:Digit|Numpad)([0-9])$/.exec(event.code);
    if (!digit) return null;
    const number = Number(digit[1]) + (event.shiftKey ? 10 : 0);
    const choices = field.querySelectorAll(".choices li:not(.none):not(.other) input");
    return number >= 1 ? choices[number - 1] || null : null;
  };

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const submitForm = document.querySelector("[data-submit]");
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      if (submitForm) {
        event.preventDefault();
        submitForm.requestSubmit();
      }
      return;
    }
    if (target.matches && target.matches(TYPING)) {
      if (event.key === "Escape") target.blur();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const field = fieldOf(target);
    // Tab goes from field to field (a field's uncertain flag and note have their keys: u and n).
    if (event.key === "Tab" && field && target.matches(".choices input")) {
      const fields = [...document.querySelectorAll("form[data-field]")];
      const next = fields[fields.indexOf(field) + (event.shiftKey ? -1 : 1)];
      if (next) {
        event.preventDefault();
        focusField(next);
      }
      return;
    }
    if (event.key === "j") {
      follow("a[rel=next]");
    } else if (event.key === "k") {
      follow("a[rel=prev]");
    } else if (event.key === "?") {
      document.getElementById("shortcuts").showModal();
    } else if (event.key === "u" && field) {
      field.querySelector("[data-uncertain]").click();
    } else if (event.key === "d" && field) {
      const definition = field.querySelector("details.definition");
      if (definition) definition.open = !definition.open;
    } else if (event.key === "n" && field) {
      event.preventDefault();
      field.querySelector("[data-note]").focus();
    } else if (field) {
      const choice = numberedChoice(field, event);
      if (choice) {
        event.preventDefault();
        choice.focus();
        choice.click();
      }
    }
  });

})();
