/* Kiosk behaviour: idle reset, network retries, acknowledgement check, staff PIN pad,
   number pads and the return to the welcome screen. Loaded after htmx 2.0.8 (pinned). */
(function () {
  "use strict";
  if (!window.htmx) { return; }

  // Swap 2xx, and 403 (the "tablet not paired" screen); every other error is retried by us.
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "403", swap: true, error: false },
    { code: "[45]..", swap: false, error: true }
  ];
  htmx.config.historyEnabled = false;
  htmx.config.historyCacheSize = 0;

  var idleTimer = null, countdownTimer = null, returnTimer = null, refreshTimer = null, retryTimer = null;
  var retryDelay = 1000, lastRequest = null, pressTimer = null, pinHTML = null;

  function screen() { return document.getElementById("screen"); }
  function $(id) { return document.getElementById(id); }
  function show(el, on) { if (el) { el.hidden = !on; } }

  function currentCsrf() { var s = screen(); return s ? s.dataset.csrf : null; }

  /* Keep the CSRF token fresh: each swapped screen carries a new one. */
  function refreshCsrf() {
    var token = currentCsrf();
    if (!token) { return; }
    document.body.setAttribute("hx-headers", JSON.stringify({ "X-CSRFToken": token }));
    var inputs = document.querySelectorAll("#staff-panel input[name=csrf_token]");
    for (var i = 0; i < inputs.length; i++) { inputs[i].value = token; }
  }

  /* ---------- network trouble: say so and retry the same request ---------- */
  function banner(on) { show($("net-banner"), on); }

  function scheduleRetry() {
    if (!lastRequest) { return; }
    banner(true);
    clearTimeout(retryTimer);
    var req = lastRequest;
    retryTimer = setTimeout(function () {
      if (lastRequest !== req) { return; }
      var source = req.elt && document.body.contains(req.elt) ? req.elt : document.body;
      htmx.ajax(req.verb.toUpperCase(), req.path, {
        source: source, target: req.targetSelector, swap: req.swap, values: req.values
      });
    }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 8000);
  }

  function requestSucceeded() {
    clearTimeout(retryTimer);
    retryDelay = 1000;
    lastRequest = null;
    banner(false);
  }

  document.addEventListener("htmx:configRequest", function (evt) {
    var d = evt.detail, values = {};
    d.formData.forEach(function (v, k) { values[k] = v; });
    var staff = d.target && d.target.id === "staff-panel";
    lastRequest = {
      verb: d.verb, path: d.path, values: values, elt: d.elt,
      targetSelector: staff ? "#staff-panel" : "#screen", swap: staff ? "innerHTML" : "outerHTML",
      send: !!(d.elt && d.elt.closest && d.elt.closest("[data-send]")),
      token: screen() ? screen().dataset.token : null
    };
    clearTimeout(retryTimer);
  });

  document.addEventListener("htmx:beforeSwap", function (evt) {
    var xhr = evt.detail.xhr, kind = xhr.getResponseHeader("X-Kiosk"), req = lastRequest;
    var ok = !!kind && (xhr.status < 400 || xhr.status === 403);
    // "Terkirim" only on the server's acknowledgement of this survey's token: a Wi-Fi
    // login page answering 200 is not a save.
    if (ok && req && req.send && kind === "thanks") {
      ok = xhr.getResponseHeader("X-Kiosk-Ack") === req.token;
    }
    if (ok) {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
      requestSucceeded();
    } else {
      evt.detail.shouldSwap = false;
      evt.detail.isError = false;
      scheduleRetry();
    }
  });
  document.addEventListener("htmx:sendError", scheduleRetry);
  document.addEventListener("htmx:timeout", scheduleRetry);
  document.addEventListener("htmx:responseError", scheduleRetry);

  /* ---------- idle reset: "Masih di sana?" with a countdown ---------- */
  function stopIdle() {
    clearTimeout(idleTimer); clearInterval(countdownTimer);
    show($("idle-overlay"), false);
  }

  function armIdle() {
    stopIdle();
    var s = screen();
    if (!s || !s.dataset.token || !$("idle-overlay")) { return; }
    if ($("staff-overlay") && !$("staff-overlay").hidden) { return; }
    idleTimer = setTimeout(askStillThere, parseInt(s.dataset.idle || "60", 10) * 1000);
  }

  function askStillThere() {
    var s = screen(), left = parseInt(s.dataset.countdown || "20", 10);
    $("idle-count").textContent = left;
    show($("idle-overlay"), true);
    countdownTimer = setInterval(function () {
      left -= 1;
      $("idle-count").textContent = Math.max(left, 0);
      if (left <= 0) { clearInterval(countdownTimer); resetSurvey(); }
    }, 1000);
  }

  function resetSurvey() {
    var s = screen();
    show($("idle-overlay"), false);
    if (!s || !s.dataset.abandon) { return; }
    s.classList.add("resetting");
    htmx.ajax("POST", s.dataset.abandon, { source: s, target: "#screen", swap: "outerHTML", values: { csrf_token: s.dataset.csrf } });
  }

  function activity() {
    if ($("idle-overlay") && !$("idle-overlay").hidden) { return; }  // only the button continues
    if (idleTimer) { armIdle(); }
  }
  ["pointerdown", "keydown", "input"].forEach(function (name) {
    document.addEventListener(name, activity, { passive: true });
  });

  /* ---------- screens: after each swap ---------- */
  function goHome() {
    var s = screen();
    if (!s) { return; }
    htmx.ajax("GET", s.dataset.home, { source: s, target: "#screen", swap: "outerHTML" });
  }

  function onScreen() {
    var s = screen();
    if (!s) { return; }
    refreshCsrf();
    clearTimeout(returnTimer); clearTimeout(refreshTimer);
    armIdle();
    if (s.dataset.kind === "thanks" && s.dataset.ack) {
      returnTimer = setTimeout(goHome, parseInt(s.dataset.return || "8", 10) * 1000);
    }
    if (s.dataset.kind === "welcome" || s.dataset.kind === "paused") {
      // A kiosk left for hours keeps a fresh CSRF token and the current IKM.
      refreshTimer = setTimeout(goHome, 5 * 60 * 1000);
      closeStaff();
    }
    var focus = s.querySelector("#age-input");
    if (focus) { focus.focus({ preventScroll: true }); }
    window.scrollTo(0, 0);
  }
  htmx.onLoad(function (elt) {
    if (elt && elt.id === "screen") { onScreen(); }
  });

  /* ---------- number pads (age, PIN): no OS keyboard ---------- */
  document.addEventListener("click", function (evt) {
    var key = evt.target.closest ? evt.target.closest("[data-key]") : null;
    if (key) {
      var pad = key.closest(".numpad"), input = pad && $(pad.dataset.target);
      if (!input) { return; }
      var max = parseInt(input.getAttribute("maxlength") || "8", 10);
      if (key.dataset.key === "del") { input.value = input.value.slice(0, -1); }
      else if (input.value.length < max) { input.value += key.dataset.key; }
      return;
    }
    if (evt.target.closest && evt.target.closest(".staff-close")) { closeStaff(); }
    if (evt.target.id === "idle-continue") { armIdle(); }
  });

  /* ---------- staff: long-press (3 s) on the top-left corner ---------- */
  function openStaff() {
    var overlay = $("staff-overlay"), panel = $("staff-panel");
    if (!overlay) { return; }
    if (pinHTML !== null) { panel.innerHTML = pinHTML; htmx.process(panel); }
    refreshCsrf();
    stopIdle();
    show(overlay, true);
  }
  function closeStaff() {
    var overlay = $("staff-overlay");
    if (overlay && !overlay.hidden) { show(overlay, false); armIdle(); }
  }
  function cancelPress() { clearTimeout(pressTimer); pressTimer = null; }
  document.addEventListener("pointerdown", function (evt) {
    if (evt.target.id === "staff-corner") { cancelPress(); pressTimer = setTimeout(openStaff, 3000); }
  });
  ["pointerup", "pointercancel", "pointerleave"].forEach(function (name) {
    document.addEventListener(name, function (evt) { if (evt.target.id === "staff-corner") { cancelPress(); } });
  });

  /* ---------- nothing to keep for the next visitor ---------- */
  document.addEventListener("contextmenu", function (evt) {
    if (!evt.target.closest || !evt.target.closest("input, textarea")) { evt.preventDefault(); }
  });
  window.addEventListener("pageshow", function (evt) { if (evt.persisted) { window.location.reload(); } });
  try { window.localStorage.removeItem("htmx-history-cache"); } catch (e) { /* storage disabled */ }

  // Deferred script: the document is parsed.
  var panel0 = $("staff-panel");
  if (panel0 && panel0.querySelector(".pin-form")) { pinHTML = panel0.innerHTML; }
  onScreen();
}());
