// The colour theme: "auto" (follow the system's prefers-color-scheme), "light" or "dark",
// remembered per browser in localStorage "theme" — the key and values of the Django admin's
// own toggle, so the portal and /django-admin/ agree. Loaded in <head> without defer: the
// choice is on <html data-theme> before the first paint (the CSP allows no inline script).
"use strict";
(function () {
  var root = document.documentElement;
  var THEMES = ["auto", "light", "dark"];

  function stored() {
    try {
      var theme = window.localStorage.getItem("theme");
      return THEMES.indexOf(theme) >= 0 ? theme : "auto";
    } catch (e) {
      return "auto"; // storage refused (privacy settings): follow the system
    }
  }

  function systemTheme() {
    return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  function apply(theme) {
    root.dataset.theme = theme;
    var label = theme === "auto" ? "auto (" + systemTheme() + ")" : theme;
    document.querySelectorAll("[data-theme-toggle]").forEach(function (button) {
      button.querySelector("[data-theme-label]").textContent = theme;
      button.title = "Colour theme: " + label + ". Click to change it.";
    });
  }

  // As the Django admin's: auto, then the opposite of the system, then the system's own.
  function next(theme) {
    var other = systemTheme() === "dark" ? "light" : "dark";
    return theme === "auto" ? other : theme === other ? systemTheme() : "auto";
  }

  apply(stored());
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", function () {
    apply(stored()); // "auto (dark)" / "auto (light)" stays true when the system changes
  });
  document.addEventListener("DOMContentLoaded", function () {
    apply(stored());
    document.querySelectorAll("[data-theme-toggle]").forEach(function (button) {
      button.hidden = false; // without JavaScript there is no toggle: the system decides
      button.addEventListener("click", function () {
        var theme = next(stored());
        try {
          window.localStorage.setItem("theme", theme);
        } catch (e) {
          // not remembered, but applied to this page
        }
        apply(theme);
      });
    });
  });
})();
