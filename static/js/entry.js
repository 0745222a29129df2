// Fast paper entry: single-keystroke fields move focus on, Enter saves, bad keys show a hint.
(function () {
  "use strict";

  function fields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return !el.disabled && el.type !== "hidden" && (el.tagName === "INPUT" || el.tagName === "SELECT" || el.tagName === "TEXTAREA");
    });
  }

  function move(form, el, step) {
    var list = fields(form);
    var next = list[list.indexOf(el) + step];
    if (next) {
      next.focus();
      if (next.select && next.tagName === "INPUT") next.select();
    }
  }

  function hintFor(el) {
    var cell = el.closest("tr");
    var hint = cell ? cell.querySelector(".js-hint") : null;
    if (!hint) {
      hint = el.parentNode.querySelector(".js-hint");
      if (!hint) {
        hint = document.createElement("span");
        hint.className = "error field-error js-hint";
        hint.hidden = true;
        el.parentNode.appendChild(hint);
      }
    }
    return hint;
  }

  function showHint(el, text) {
    var hint = hintFor(el);
    hint.textContent = text;
    hint.hidden = false;
    hint.setAttribute("role", "alert");
    el.classList.add("invalid");
    el.setAttribute("aria-invalid", "true");
  }

  function clearHint(el) {
    var hint = hintFor(el);
    hint.hidden = true;
    hint.textContent = "";
    el.classList.remove("invalid");
    el.removeAttribute("aria-invalid");
  }

  function init() {
    var form = document.getElementById("entry-form");
    if (!form) return;
    var sent = false;

    form.addEventListener("keydown", function (ev) {
      var el = ev.target;
      if (ev.ctrlKey || ev.altKey || ev.metaKey) return;
      if (ev.key === "Enter") {
        if (el.tagName === "TEXTAREA" && ev.shiftKey) return; // new line in saran
        if (el.tagName === "BUTTON") return;
        ev.preventDefault();
        if (!sent) {
          if (form.requestSubmit) form.requestSubmit(); else form.submit();
        }
        return;
      }
      if (!el.hasAttribute || !el.hasAttribute("data-keys")) return;
      if (ev.key === "Backspace" && el.value === "") {
        ev.preventDefault();
        move(form, el, -1);
        return;
      }
      if (ev.key.length !== 1) return; // Tab, arrows, Backspace with a value...
      ev.preventDefault();
      if (el.getAttribute("data-keys").indexOf(ev.key) === -1) {
        el.value = "";
        showHint(el, el.getAttribute("data-hint") || "Tombol tidak berlaku di isian ini.");
        return;
      }
      el.value = el.hasAttribute("data-upper") ? ev.key.toUpperCase() : ev.key;
      clearHint(el);
      if (el.hasAttribute("data-advance")) move(form, el, 1);
    });

    // Select the content of single-key fields on focus so a new keystroke replaces it.
    form.addEventListener("focusin", function (ev) {
      var el = ev.target;
      if (el.tagName === "INPUT" && el.select) el.select();
    });

    form.addEventListener("submit", function () {
      sent = true;
      var button = document.getElementById("save");
      if (button) button.disabled = true;
    });

    form.setAttribute("data-ready", "1"); // tests wait for this before typing
    var focused = form.querySelector("[autofocus]");
    if (focused) {
      focused.focus();
      if (focused.select && focused.tagName === "INPUT") focused.select();
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
