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

  // What a field's form holds, as the save would send it (without its version and CSRF token).
  const snapshot = (form) =>
    new URLSearchParams(
      [...new FormData(form)].filter(([name]) => name !== "version" && name !== "csrfmiddlewaretoken"),
    ).toString();

  // Per field: what the server holds (null: unknown, as after a refused save or a conflict) and what was sent last;
  // per request: what it sends.
  const saved = new Map();
  const sent = new Map();
  const sending = new WeakMap();
  const fields = () => [...document.querySelectorAll("form[data-field]:not(:has(fieldset[disabled]))")];
  const fieldForm = (event) => {
    const form = event.detail.elt;
    return form.matches && form.matches("form[data-field]") ? form : null;
  };

  document.addEventListener("DOMContentLoaded", () => {
    for (const form of fields()) saved.set(form, form.matches("[data-unsaved]") ? null : snapshot(form));
  });

  // One save per change: a key press on a choice fires both change and keyup, and leaving a text box after its
  // delayed save fires change; a save of what was sent last is dropped. (A save queued behind one in flight asks
  // again when its turn comes, so it compares with what had been sent by then.)
  document.addEventListener("htmx:confirm", (event) => {
    const form = fieldForm(event);
    if (form && sent.get(form) === snapshot(form) && event.detail.triggeringEvent?.type !== "submit") {
      event.preventDefault();
    }
  });

  document.addEventListener("htmx:beforeRequest", (event) => {
    const form = fieldForm(event);
    if (!form) return;
    sent.set(form, snapshot(form));
    sending.set(event.detail.xhr, sent.get(form));
  });

  document.addEventListener("htmx:afterRequest", (event) => {
    const form = fieldForm(event);
    if (!form) return;
    const status = event.detail.xhr.status;
    if (status >= 200 && status < 300) {
      saved.set(form, sending.get(event.detail.xhr));
    } else {
      saved.set(form, null);
      // Only a refusal (422) is the answer to these values; after a conflict ("overwrite it with mine"), a lost
      // connection or a server error, the same values may go again.
      if (status !== 422) sent.delete(form);
    }
  });

  // Submitting waits for the saves in flight (a note typed a moment ago) so that nothing is lost; it is refused
  // while a field holds a value the server has not saved (one it refused, say), naming the field. The page's
  // values go along, so that the server checks the same (studies/views/annotate.py: submit).
  const submitWhenSaved = (form) => {
    if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
    // A value not sent yet (one the server's refusal of an earlier Submit showed again) is saved first.
    for (const field of fields()) {
      const now = snapshot(field);
      if (saved.get(field) !== now && sent.get(field) !== now) htmx.trigger(field, "change");
    }
    const started = Date.now();
    const check = () => {
      if (document.querySelector(".htmx-request") && Date.now() - started < 5000) {
        window.setTimeout(check, 50);
        return;
      }
      delete form.dataset.saved;
      const unsaved = fields().filter((field) => saved.get(field) !== snapshot(field));
      const alert = form.querySelector("[data-unsaved-alert]");
      if (unsaved.length) {
        // Each label isolated (<bdi>), as the server writes it: a right-to-left override in one stays inside it.
        const names = unsaved.map((field) => {
          const name = document.createElement("bdi");
          name.textContent = field.querySelector("legend").firstChild.textContent.trim();
          return name;
        });
        alert.replaceChildren(
          "Not submitted: ",
          ...names.flatMap((name, index) => (index ? [", ", name] : [name])),
          ` ${unsaved.length === 1 ? "holds" : "hold"} a value that is not saved. Correct or clear it, then submit.`,
        );
        alert.hidden = false;
        focusField(unsaved[0]);
        unsaved[0].scrollIntoView({ block: "center" });
        return;
      }
      alert.hidden = true;
      for (const field of fields()) {
        const input = document.createElement("input");
        input.type = "hidden";
        input.name = `page-${field.dataset.field}`;
        input.value = snapshot(field);
        form.append(input);
      }
      form.submit();
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
    const open = fields().find((form) => !form.querySelector(".choices input:checked:not([value=''])"));
    focusField(open || fields()[0]);
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
