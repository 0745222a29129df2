// Results filters: picking a unit, period or service shows it at once (the button stays for no-JS use).
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target.tagName !== "SELECT" || !target.form || !target.form.classList.contains("filters")) return;
  if (target.name === "unit") {
    var service = target.form.querySelector("select[name=service]");
    if (service) service.value = ""; // services belong to a unit
  }
  target.form.requestSubmit ? target.form.requestSubmit() : target.form.submit();
});
