// The survey page's Copy button: shown only where it can work (without JavaScript the link is selectable text).
document.querySelectorAll("button[data-copy]").forEach((button) => {
  const input = document.getElementById(button.dataset.copy);
  if (!input || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", () => {
    navigator.clipboard.writeText(input.value).then(
      () => { button.textContent = "Copied"; },
      () => { input.select(); },
    );
  });
});
