// A button with data-copy="<input id>" copies that input's value (no inline script: CSP).
document.querySelectorAll("[data-copy]").forEach((button) => {
  button.addEventListener("click", () => {
    const input = document.getElementById(button.dataset.copy);
    navigator.clipboard.writeText(input.value).then(() => { button.textContent = "Copied"; });
  });
});
