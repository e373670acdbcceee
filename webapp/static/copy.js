// Progressive enhancement only: the code can always be selected and copied by hand.
document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
  var field = document.getElementById(button.getAttribute("data-copy"));
  if (!field || !navigator.clipboard) { return; }
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(field.value).then(function () { button.classList.add("done"); });
  });
});
document.querySelectorAll("input.code[readonly]").forEach(function (field) {
  field.addEventListener("focus", function () { field.select(); });
});
