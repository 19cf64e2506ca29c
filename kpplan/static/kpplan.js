/* kpplan's only script, loaded from 'self' as the Content Security Policy asks. Every page
   works without it; it adds:
   - the menu button of narrow screens (the header folds its menu behind it);
   - focus on the error summary of a form sent back with mistakes (or on the message the
     page opens with), so that a screen reader reads it and a phone shows it;
   - from a link of the summary, focus on the field itself;
   - a word over a table that scrolls sideways in its box;
   - a search box in the long multiple choices marked data-searchable (the co-hosts of an
     activity among forty states), with Tom Select, which the pages that have one load. */
(function () {
  "use strict";

  function setUpMenu() {
    var button = document.querySelector(".menu-button");
    var menu = document.getElementById("site-menu");
    if (!button || !menu) {
      return;
    }
    var header = button.closest(".site-header");
    header.classList.add("has-menu-button");

    function show(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      header.classList.toggle("menu-open", open);
    }

    button.addEventListener("click", function () {
      show(button.getAttribute("aria-expanded") !== "true");
    });
    header.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        show(false);
        button.focus();
      }
    });
  }

  function focusField(link) {
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) {
      return false;
    }
    var label = document.querySelector("label[for='" + field.id + "']");
    (label || field).scrollIntoView({ block: "start" });
    field.focus({ preventScroll: true });
    return true;
  }

  function setUpMessages() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summary.addEventListener("click", function (event) {
        var link = event.target.closest("a[href^='#']");
        if (link && focusField(link)) {
          event.preventDefault();
        }
      });
    }
    // A page that opens with a message about what just happened says it first, unless
    // it asks for a field to start in (the sign-in form).
    var first = summary || document.querySelector(".flash-error") ||
      (document.querySelector("[autofocus]") ? null : document.querySelector(".flash"));
    if (!first) {
      return;
    }
    first.focus();
    // A page opened at a fragment (a form that posts back to its own section) has the focus
    // taken away once the browser scrolls there: give it back, unless the person moved on.
    if (location.hash) {
      window.addEventListener("load", function () {
        window.setTimeout(function () {
          if (document.activeElement === document.body) {
            first.focus();
          }
        }, 0);
      });
    }
  }

  // A table that is wider than its box scrolls inside it: say so (the stylesheet shows a
  // word and keeps the first column in view), and say it again when the window changes.
  function markScrollingTables() {
    var boxes = document.querySelectorAll(".table-scroll");
    function mark() {
      for (var i = 0; i < boxes.length; i++) {
        var box = boxes[i];
        // The box is a stop of the Tab key only while it has something to scroll.
        if (box.scrollWidth > box.clientWidth + 1) {
          box.setAttribute("data-scrolls", "");
          box.setAttribute("tabindex", "0");
        } else {
          box.removeAttribute("data-scrolls");
          box.removeAttribute("tabindex");
        }
      }
    }
    if (boxes.length) {
      mark();
      window.addEventListener("resize", mark);
    }
  }

  function setUpSearchableChoices() {
    var selects = document.querySelectorAll("select[multiple][data-searchable]");
    if (!selects.length || typeof window.TomSelect !== "function") {
      return;  // The plain multiple select still works.
    }
    Array.prototype.forEach.call(selects, function (select) {
      var hint = select.getAttribute("aria-describedby");
      var invalid = select.getAttribute("aria-invalid");
      var control = new window.TomSelect(select, {
        plugins: ["remove_button"],
        maxOptions: null,
        hideSelected: true,
        closeAfterSelect: true,
        placeholder: "Type to find one",
        render: {
          no_results: function () {
            return '<div class="no-results">Nothing matches</div>';
          }
        }
      });
      // The search box stands for the select, now hidden: it carries the field's hint and
      // error, and the select leaves the accessibility tree (its label names the box).
      if (hint) {
        control.control_input.setAttribute("aria-describedby", hint);
      }
      if (invalid) {
        control.control_input.setAttribute("aria-invalid", invalid);
      }
      select.setAttribute("aria-hidden", "true");
      select.classList.add("visually-hidden");
    });
  }

  function start() {
    setUpMenu();
    setUpMessages();
    markScrollingTables();
    // Tom Select is a deferred script after this one: it has run once the page has loaded.
    if (document.readyState === "complete") {
      setUpSearchableChoices();
    } else {
      window.addEventListener("load", setUpSearchableChoices);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
