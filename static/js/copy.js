// A button with data-copy="<id>" copies that element's text (an input's value, else the text it
// shows) and then sends a bubbling "copied" event; no inline script (CSP).
document.querySelectorAll("[data-copy]").forEach((button) => {
  button.addEventListener("click", () => {
    const source = document.getElementById(button.dataset.copy);
    const text = source.matches("input, textarea") ? source.value : source.innerText.trim();
    navigator.clipboard.writeText(text).then(
      () => {
        button.textContent = "Copied";
        button.dispatchEvent(new CustomEvent("copied", { bubbles: true }));
      },
      () => { button.textContent = "Copy refused: select the text instead"; },
    );
  });
});
