// The console's few behaviours: htmx requests carry the CSRF token; "copy" buttons copy a link.
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) { event.detail.headers["X-CSRF-Token"] = meta.content; }
});
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button) { return; }
  var field = document.getElementById(button.getAttribute("data-copy"));
  field.select();
  if (navigator.clipboard) { navigator.clipboard.writeText(field.value).catch(function () {}); }
  button.textContent = button.getAttribute("data-copied");
});
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-locate]");
  if (!button || !navigator.geolocation) { return; }
  navigator.geolocation.getCurrentPosition(function (where) {
    document.getElementById("lat").value = where.coords.latitude.toFixed(5);
    document.getElementById("lon").value = where.coords.longitude.toFixed(5);
    document.getElementById("consent").checked = true;
  });
});
// Enter in the skill search looks skills up instead of saving the whole profile, and a skill
// ticked among the results joins the person's skills (a new search no longer drops it).
document.addEventListener("keydown", function (event) {
  if (event.key === "Enter" && event.target.id === "skill-q") { event.preventDefault(); }
});
document.addEventListener("change", function (event) {
  var box = event.target;
  if (box.name !== "skills" || !box.closest("#skill-results")) { return; }
  var mine = document.getElementById("my-skills");
  if (box.checked && !mine.querySelector('input[value="' + CSS.escape(box.value) + '"]')) {
    mine.appendChild(box.closest("label"));
  }
});
// Forms that send or undo something for many people ask first.
document.addEventListener("submit", function (event) {
  var message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) { event.preventDefault(); }
});
