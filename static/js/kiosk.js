/* Kiosk behaviour. Loaded after htmx 2.0.8 (pinned).

   - Store and forward: a survey the visitor sent goes into the tablet's outbox
     (localStorage, survives a reload and a power cut) and stays there until the server
     acknowledges its token (X-Kiosk-Ack); the one-time token makes delivery exactly once.
   - When the server cannot be reached mid-survey, the visitor goes on with the blank
     screens the server sent at the start (#survey-pack); the answers stay in memory until
     sent, then join the outbox.
   - Privacy between visitors: "Mulai dari awal", idle reset, staff panel timeout; nothing of
     a visitor (answers, typed text, notices) survives to the next welcome screen.
   - Exact answers: the chosen answer is shown as chosen, then the next screen; a fresh
     screen ignores taps for a moment; a busy spinner on a slow network; Kembali always works.
   - A CSRF token that expired while the tablet slept is refreshed silently; server errors
     are told apart from a lost connection and retried a bounded number of times.
   - Read aloud with the browser's speech synthesis (nothing recorded). */
(function () {
  "use strict";
  if (!window.htmx) { return; }

  // Swap 2xx, and 403 (the "tablet not paired" screen); every other error is handled by us.
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "403", swap: true, error: false },
    { code: "[45]..", swap: false, error: true }
  ];
  htmx.config.historyEnabled = false;
  htmx.config.historyCacheSize = 0;
  // A swapped-in screen keeps its own classes ("arming") from the start: htmx must not
  // settle the old screen's classes onto it and put them back later.
  htmx.config.attributesToSettle = ["style", "width", "height"];

  var OUTBOX_KEY = "skm-kiosk-outbox";
  var MAX_ATTEMPTS = 4;          // a request tried this often, then the visitor is told
  var OFFLINE_AFTER = 2;         // a survey step failing this often goes on on the tablet
  var ARMING_MS = 500;           // a fresh screen ignores taps this long (double taps)
  var CHOSEN_MS = 220;           // the chosen answer stays visible at least this long
  var BUSY_MS = 400;             // a request slower than this shows the spinner
  var STAFF_IDLE_MS = 1000 * parseInt(document.body.dataset.staffTimeout || "60", 10);  // staff pad and menu close

  var idleTimer = null, countdownTimer = null, returnTimer = null, refreshTimer = null, retryTimer = null;
  var busyTimer = null, staffTimer = null, noticeTimer = null, flushTimer = null, pressTimer = null;
  var lastRequest = null, pinHTML = null, welcomeHTML = null, chosenAt = 0, flushing = false;
  var cur = null;  // the survey on screen: {token, steps, values, drafts, startedAt, offline, askLow}

  function screen() { return document.getElementById("screen"); }
  function $(id) { return document.getElementById(id); }
  function show(el, on) { if (el) { el.hidden = !on; } }

  /* ---------- CSRF: each screen carries a fresh token; an expired one is replaced silently ---------- */
  var csrfToken = null;
  function setCsrf(token) {
    if (!token) { return; }
    csrfToken = token;
    document.body.setAttribute("hx-headers", JSON.stringify({ "X-CSRFToken": token, "X-Kiosk-Client": "1" }));
    var inputs = document.querySelectorAll("input[name=csrf_token]");
    for (var i = 0; i < inputs.length; i++) { inputs[i].value = token; }
  }
  function refreshCsrf() { var s = screen(); if (s && s.dataset.csrf) { setCsrf(s.dataset.csrf); } }

  /* ---------- the outbox ---------- */
  function readOutbox() {
    try { return JSON.parse(window.localStorage.getItem(OUTBOX_KEY) || "[]") || []; } catch (e) { return []; }
  }
  function writeOutbox(items) {
    try {
      if (items.length) { window.localStorage.setItem(OUTBOX_KEY, JSON.stringify(items)); }
      else { window.localStorage.removeItem(OUTBOX_KEY); }
    } catch (e) { /* storage full or disabled: the survey stays in memory until sent */ }
    memoryOutbox = items;
    updateOutboxCount();
  }
  var memoryOutbox = readOutbox();
  function outboxItems() { var items = readOutbox(); return items.length ? items : memoryOutbox; }
  function updateOutboxCount() {
    var el = $("outbox-count");
    if (el) { el.textContent = String(outboxItems().length); }
  }
  function outboxUrl() { var s = screen(); return (s && s.dataset.outbox) || "/kiosk/outbox"; }

  function queue(item) {
    var items = outboxItems().filter(function (i) { return i.token !== item.token; });
    items.push(item);
    writeOutbox(items);
  }
  var refusals = {};  // token -> the server's reason, for the screen that sent it
  function drop(token) { writeOutbox(outboxItems().filter(function (i) { return i.token !== token; })); }

  /* Deliver one item: resolves "ack", "rejected" or "later". */
  function deliver(item, csrfRetried) {
    var body = new URLSearchParams();
    body.set("token", item.token);
    body.set("answers", JSON.stringify(item.answers));
    body.set("elapsed", String(item.elapsed));
    if (csrfToken) { body.set("csrf_token", csrfToken); }
    return fetch(item.url || outboxUrl(), {
      method: "POST", body: body, credentials: "same-origin", cache: "no-store",
      headers: { "X-CSRFToken": csrfToken || "", "X-Kiosk-Client": "1", "X-Kiosk-Outbox": String(outboxItems().length) }
    }).then(function (r) {
      var kind = r.headers.get("X-Kiosk");
      if (r.ok && kind === "ack" && r.headers.get("X-Kiosk-Ack") === item.token) { drop(item.token); return "ack"; }
      if (r.status === 422 && kind === "rejected") {
        if (window.console) { console.warn("kiosk: survey refused by the server", item.token); }
        drop(item.token);
        // The refusal is shown to the visitor still on the thank-you screen (e.g. a closed period).
        return r.text().then(function (text) { refusals[item.token] = text; return "rejected"; },
                             function () { return "rejected"; });
      }
      if (r.status === 400 && kind === "csrf" && !csrfRetried) {
        setCsrf(r.headers.get("X-Kiosk-Csrf"));
        return deliver(item, true);
      }
      return "later";
    }, function () { return "later"; });
  }

  function flushOutbox() {
    clearTimeout(flushTimer);
    if (flushing) { return Promise.resolve(); }
    var items = outboxItems();
    if (!items.length) { return Promise.resolve(); }
    flushing = true;
    var results = {};
    var chain = Promise.resolve();
    items.forEach(function (item) {
      chain = chain.then(function () { return deliver(item).then(function (res) { results[item.token] = res; }); });
    });
    return chain.then(function () {
      flushing = false;
      if (outboxItems().length) { flushTimer = setTimeout(flushOutbox, 10000); }
      return results;
    });
  }
  window.addEventListener("online", function () { flushOutbox(); });

  /* ---------- the network: busy spinner, retries, going on offline ---------- */
  function banner(text) {
    var b = $("net-banner");
    if (!b) { return; }
    if (text) { b.textContent = text; }
    show(b, !!text);
  }
  function busy(on) {
    clearTimeout(busyTimer);
    if (on) { busyTimer = setTimeout(function () { show($("busy"), true); }, BUSY_MS); }
    else { show($("busy"), false); }
  }
  function unlockScreen() {
    var s = screen();
    if (s) { s.classList.remove("choosing"); }
  }

  function failure(kind, status) {
    var req = lastRequest;
    busy(false);
    if (!req) { return; }
    req.attempts = (req.attempts || 0) + 1;
    if (req.local && cur && packTemplate(cur.steps[0]) && req.attempts >= OFFLINE_AFTER) {
      goOffline(req);
      return;
    }
    if (req.attempts >= MAX_ATTEMPTS) {
      lastRequest = null;
      unlockScreen();
      banner(kind === "server"
        ? "Terjadi kesalahan di server (kode " + status + "). Mohon beri tahu petugas, lalu coba sentuh lagi."
        : "Koneksi terputus. Mohon beri tahu petugas, lalu coba sentuh lagi.");
      return;
    }
    banner(kind === "server"
      ? "Terjadi kesalahan di server (kode " + status + "), mencoba lagi…"
      : "Koneksi terputus, mencoba lagi…");
    clearTimeout(retryTimer);
    retryTimer = setTimeout(function () { resend(req); }, Math.min(1000 * Math.pow(2, req.attempts - 1), 8000));
  }

  function resend(req) {
    if (lastRequest !== req) { return; }
    var source = req.elt && document.body.contains(req.elt) ? req.elt : document.body;
    if (req.values.csrf_token !== undefined && csrfToken) { req.values.csrf_token = csrfToken; }
    req.resending = true;
    htmx.ajax(req.verb.toUpperCase(), req.path, {
      source: source, target: req.targetSelector, swap: req.swap, values: req.values
    });
  }

  function requestSucceeded() {
    clearTimeout(retryTimer);
    lastRequest = null;
    busy(false);
    banner(null);
  }

  document.addEventListener("htmx:configRequest", function (evt) {
    var d = evt.detail, values = {};
    d.formData.forEach(function (v, k) { values[k] = v; });
    d.headers["X-Kiosk-Outbox"] = String(outboxItems().length);
    d.headers["X-Kiosk-Client"] = "1";
    if (csrfToken) { d.headers["X-CSRFToken"] = csrfToken; }
    var staff = d.target && d.target.id === "staff-panel";
    var form = d.elt && d.elt.closest ? d.elt.closest("form") : null;
    var previous = lastRequest;
    lastRequest = {
      verb: d.verb, path: d.path, values: values, elt: d.elt,
      targetSelector: staff ? "#staff-panel" : "#screen", swap: staff ? "innerHTML" : "outerHTML",
      attempts: previous && previous.resending && previous.path === d.path ? previous.attempts : 0,
      step: form && form.dataset.step || null,
      back: form && form.dataset.back || null,
      local: !!(form && (form.dataset.step || form.dataset.back !== undefined) && !form.hasAttribute("data-send"))
    };
    clearTimeout(retryTimer);
    if (!staff) { busy(true); }
  });

  document.addEventListener("htmx:beforeSwap", function (evt) {
    var xhr = evt.detail.xhr, kind = xhr.getResponseHeader("X-Kiosk"), req = lastRequest;
    evt.detail.isError = false;
    if (xhr.status === 400 && kind === "csrf" && req && !req.csrfRetried) {
      // The token expired while the tablet slept: take the new one and repeat, unseen.
      evt.detail.shouldSwap = false;
      setCsrf(xhr.getResponseHeader("X-Kiosk-Csrf"));
      req.csrfRetried = true;
      req.resending = true;
      resend(req);
      return;
    }
    var ok = !!kind && (xhr.status < 400 || xhr.status === 403);
    if (ok) {
      evt.detail.shouldSwap = true;
      var wait = CHOSEN_MS - (Date.now() - chosenAt);
      if (wait > 20 && evt.detail.target && evt.detail.target.id === "screen") {
        evt.detail.swapOverride = "outerHTML swap:" + wait + "ms";
      }
      if (req && req.step && cur && !xhr.getResponseHeader("X-Kiosk-Ignored")) { noteAnswer(req, kind); }
      requestSucceeded();
    } else {
      evt.detail.shouldSwap = false;
      var server = xhr.status >= 500 && [502, 503, 504].indexOf(xhr.status) < 0;
      failure(server ? "server" : "network", xhr.status);
    }
  });
  document.addEventListener("htmx:sendError", function () { failure("network", 0); });
  document.addEventListener("htmx:timeout", function () { failure("network", 0); });

  /* ---------- the visitor's answers, kept in memory for the outbox ---------- */
  function typed(step, raw) {
    if (step === "age" || step === "service" || step.indexOf("el-") === 0) { return parseInt(raw, 10); }
    return raw;
  }

  /* A step request the server accepted: keep its value (the next screen is another step). */
  function noteAnswer(req, kind) {
    var step = req.step, v = req.values.value;
    if (v === undefined || v === "") { return; }
    var next = kind;  // X-Kiosk: the screen kind that follows
    if (step === "occupation") {
      if (v === "LAINNYA" && req.values.other === undefined) { cur.values.occupation = ["LAINNYA", cur.drafts.other || ""]; return; }
      cur.values.occupation = [v, v === "LAINNYA" ? (req.values.other || "").replace(/\s+/g, " ").trim() : ""];
      return;
    }
    if (step === "age" && next === "age") { return; }  // refused (out of range): stays on the screen
    cur.values[step] = typed(step, v);
  }

  function startSurvey(s) {
    cur = {
      token: s.dataset.token, steps: (s.dataset.steps || "").split(" ").filter(Boolean), values: {},
      drafts: {}, startedAt: Date.now(), offline: false, askLow: s.dataset.askLow === "1"
    };
  }

  /* ---------- going on without the server ---------- */
  function packTemplate(step) {
    var pack = $("survey-pack");
    return pack ? pack.querySelector('template[data-step="' + step + '"]') : null;
  }

  function goOffline(req) {
    clearTimeout(retryTimer);
    lastRequest = null;
    banner(null);
    cur.offline = true;
    document.body.classList.add("offline");
    if (req.back !== null && req.back !== undefined) { localBack(req.back); return; }
    localAnswer(req.step, req.values.value, req.values.other);
  }

  function localRender(step, message) {
    var tpl = packTemplate(step);
    if (!tpl) { return; }
    var fresh = tpl.content.firstElementChild.cloneNode(true);
    var value = cur.values[step === "occupation-other" ? "occupation" : step];
    var chosen = step === "occupation" && value ? value[0] : value;
    fresh.querySelectorAll("button[name=value]").forEach(function (b) {
      var on = chosen !== undefined && String(chosen) === b.value;
      b.classList.toggle("selected", on);
      b.setAttribute("aria-pressed", on ? "true" : "false");
    });
    var age = fresh.querySelector("#age-input");
    if (age && value) { age.value = String(value); }
    if (message) {
      var p = document.createElement("p");
      p.className = "notice"; p.setAttribute("role", "alert"); p.textContent = message;
      var body = fresh.querySelector(".screen-body");
      body.insertBefore(p, body.firstChild);
    }
    if (step === "saran") {
      var low = cur.askLow && cur.steps.some(function (s) { return s.indexOf("el-") === 0 && (cur.values[s] === 1 || cur.values[s] === 2); });
      show(fresh.querySelector("[data-low-reason]"), low);
      show(fresh.querySelector("[data-no-reason]"), !low);
    }
    fresh.classList.add("arming");
    fresh.querySelectorAll("input[name=csrf_token]").forEach(function (i) { if (csrfToken) { i.value = csrfToken; } });
    screen().replaceWith(fresh);
    onScreen();
  }

  function nextOf(step) {
    var i = cur.steps.indexOf(step);
    return i >= 0 && i + 1 < cur.steps.length ? cur.steps[i + 1] : null;
  }

  function localAnswer(step, raw, other) {
    if (!step) { return; }
    if (step === "saran") { return; }
    if (raw === undefined || raw === null || raw === "") {
      if (step === "age") { localRender(step, "Usia harus antara 15 dan 99 tahun."); }
      else { localRender(step, "Pilih salah satu jawaban."); }
      return;
    }
    if (step === "age") {
      var age = parseInt(raw, 10);
      if (!/^\d{1,3}$/.test(String(raw)) || age < 15 || age > 99) { localRender(step, "Usia harus antara 15 dan 99 tahun."); return; }
    }
    if (step === "occupation") {
      if (raw === "LAINNYA" && other === undefined) {
        cur.values.occupation = ["LAINNYA", cur.drafts.other || ""];
        localRender("occupation-other");
        return;
      }
      cur.values.occupation = [raw, raw === "LAINNYA" ? String(other || "").replace(/\s+/g, " ").trim().slice(0, 100) : ""];
    } else {
      cur.values[step] = typed(step, raw);
    }
    localRender(nextOf(step) || "saran");
  }

  function localBack(step) {
    if (step === "occupation-other") { localRender("occupation"); return; }
    var i = cur.steps.indexOf(step);
    if (i <= 0) { resetSurvey(); return; }
    localRender(cur.steps[i - 1]);
  }

  /* Offline, a step's form is answered here instead of by the server. */
  document.addEventListener("submit", function (evt) {
    var form = evt.target, s = screen();
    if (!s || !s.contains(form)) { return; }
    if (form.hasAttribute("data-restart")) {  // "Mulai dari awal": at once, online or not
      evt.preventDefault(); evt.stopImmediatePropagation();
      resetSurvey();
      return;
    }
    if (form.hasAttribute("data-send") && cur) {
      evt.preventDefault(); evt.stopImmediatePropagation();
      var skip = evt.submitter && evt.submitter.name === "skip";
      var text = form.querySelector("textarea");
      sendSurvey(skip ? "" : (text ? text.value.trim().slice(0, 1000) : ""));
      return;
    }
    if (!cur || !cur.offline) { return; }
    evt.preventDefault(); evt.stopImmediatePropagation();
    if (form.dataset.back !== undefined) { localBack(form.dataset.back); return; }
    var data = new FormData(form);
    var raw = evt.submitter && evt.submitter.name === "value" ? evt.submitter.value : data.get("value");
    var other = form.querySelector("[name=other]");
    var chosenStep = form.dataset.step;
    setTimeout(function () { localAnswer(chosenStep, raw, other ? other.value : undefined); }, CHOSEN_MS);
  }, true);

  /* ---------- send: into the outbox first, then to the server ---------- */
  function sendSurvey(saran) {
    var answers = {};
    Object.keys(cur.values).forEach(function (k) { answers[k] = cur.values[k]; });
    answers.saran = saran;
    var item = { token: cur.token, answers: answers, elapsed: Math.round((Date.now() - cur.startedAt) / 1000), url: outboxUrl() };
    queue(item);
    var thanks = packTemplate("thanks");
    forgetVisitor();
    if (thanks) {
      var fresh = thanks.content.firstElementChild.cloneNode(true);
      fresh.querySelector(".status-sent").textContent = "Mengirim…";
      fresh.dataset.ack = "";
      screen().replaceWith(fresh);
    }
    clearPack();
    onScreen();
    flushOutbox().then(function (results) {
      var s = screen(), status = s && s.querySelector(".status-sent");
      if (!s || s.dataset.kind !== "thanks" || !status) { return; }
      if (results && results[item.token] === "ack") {
        s.dataset.ack = item.token;
        status.textContent = "Terkirim";
      } else if (results && results[item.token] === "rejected") {
        status.textContent = refusals[item.token] || "Penilaian ini tidak dapat disimpan.";
        delete refusals[item.token];
        s.classList.add("refused");
      } else {
        status.textContent = "Tersimpan di tablet ini dan akan dikirim otomatis";
      }
    });
  }

  /* ---------- privacy between visitors ---------- */
  function clearPack() { var pack = $("survey-pack"); if (pack) { pack.innerHTML = ""; } }
  function forgetVisitor() {
    cur = null;
    clearTimeout(retryTimer);
    lastRequest = null;
    banner(null);
    busy(false);
    document.body.classList.remove("offline");
    if (window.speechSynthesis) { try { window.speechSynthesis.cancel(); } catch (e) { /* none */ } }
  }

  function showWelcome() {
    if (welcomeHTML) {
      var holder = document.createElement("div");
      holder.innerHTML = welcomeHTML;
      var fresh = holder.firstElementChild;
      screen().replaceWith(fresh);
      htmx.process(fresh);
      onScreen();
    } else {
      var s = screen();
      if (s) { s.classList.add("resetting"); }
    }
    goHome();
  }

  /* Idle reset, "Mulai dari awal", staff restart: the screen is cleared at once, then the
     server is told (an unsent survey is abandoned there; a sent one is in the outbox). */
  function resetSurvey() {
    var token = cur ? cur.token : (screen() && screen().dataset.token), url = screen() && screen().dataset.abandon;
    stopIdle();
    forgetVisitor();
    clearPack();
    if (token && url && !outboxItems().some(function (i) { return i.token === token; })) {
      var body = new URLSearchParams();
      if (csrfToken) { body.set("csrf_token", csrfToken); }
      fetch(url, { method: "POST", body: body, credentials: "same-origin",
                   headers: { "X-CSRFToken": csrfToken || "", "X-Kiosk-Client": "1" } }).catch(function () { /* offline */ });
    }
    showWelcome();
  }

  /* ---------- idle reset: "Masih di sana?" with a live countdown ---------- */
  function stopIdle() {
    clearTimeout(idleTimer); clearInterval(countdownTimer);
    idleTimer = null;
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
    $("idle-continue").focus({ preventScroll: true });
    countdownTimer = setInterval(function () {
      left -= 1;
      $("idle-count").textContent = Math.max(left, 0);
      if (left <= 0) { clearInterval(countdownTimer); resetSurvey(); }
    }, 1000);
  }

  function activity() {
    if ($("idle-overlay") && !$("idle-overlay").hidden) { return; }  // only the buttons answer
    if (idleTimer) { armIdle(); }
  }
  ["pointerdown", "keydown", "input"].forEach(function (name) {
    document.addEventListener(name, activity, { passive: true });
  });

  /* ---------- screens: after each swap ---------- */
  function goHome() {
    var s = screen();
    if (!s) { return; }
    htmx.ajax("GET", s.dataset.home || "/kiosk/", { source: s, target: "#screen", swap: "outerHTML" });
  }

  function announce(s) {
    var title = s.querySelector("h1"), live = $("announce");
    if (title && live) { live.textContent = title.textContent.replace(/\s+/g, " ").trim(); }
    var target = s.querySelector("#other-input") || (s.dataset.kind === "age" ? s.querySelector("#age-input") : null) || title;
    if (target) { target.focus({ preventScroll: true }); }
  }

  function onScreen() {
    var s = screen();
    if (!s) { return; }
    refreshCsrf();
    s.classList.add("arming");
    setTimeout(function () { s.classList.remove("arming"); }, ARMING_MS);
    clearTimeout(returnTimer); clearTimeout(refreshTimer); clearTimeout(noticeTimer);
    if (window.speechSynthesis) { try { window.speechSynthesis.cancel(); } catch (e) { /* none */ } }
    unlockScreen();
    var kind = s.dataset.kind;
    if (s.dataset.token && (!cur || cur.token !== s.dataset.token)) { startSurvey(s); }
    if (!s.dataset.token && kind !== "thanks") { forgetVisitor(); }
    armIdle();
    if (kind === "saran" && cur) {
      var text = s.querySelector("#saran-input");
      if (text && !text.value && cur.drafts.saran) { text.value = cur.drafts.saran; }
      toggleSkip(s);
    }
    if (s.dataset.step === "occupation-other" && cur) {
      var other = s.querySelector("#other-input");
      if (other && !other.value && cur.drafts.other) { other.value = cur.drafts.other; }
    }
    if (kind === "thanks") { thanksCountdown(s); }
    if (kind === "welcome" || kind === "paused") {
      // A kiosk left for hours keeps a fresh CSRF token and the current IKM.
      refreshTimer = setTimeout(goHome, 5 * 60 * 1000);
      closeStaff();
      clearPack();
      var copy = s.cloneNode(true);
      copy.querySelectorAll(".notice").forEach(function (n) { n.remove(); });
      copy.classList.remove("arming", "resetting");
      if (kind === "welcome") { welcomeHTML = copy.outerHTML; }
      // A notice (a refused start, a stale survey) is for this moment only.
      noticeTimer = setTimeout(function () { s.querySelectorAll(".notice").forEach(function (n) { n.remove(); }); }, 8000);
      flushOutbox();
    }
    announce(s);
    window.scrollTo(0, 0);
  }
  htmx.onLoad(function (elt) {
    if (elt && elt.id === "screen") { onScreen(); }
    if (elt && (elt.id === "staff-panel" || (elt.closest && elt.closest("#staff-panel")))) { updateOutboxCount(); touchStaff(); }
  });

  function thanksCountdown(s) {
    var left = parseInt(s.dataset.return || "8", 10), count = s.querySelector("[data-count]");
    if (count) { count.textContent = left; }
    var tick = function () {
      left -= 1;
      if (count) { count.textContent = Math.max(left, 0); }
      if (left <= 0) { showWelcome(); } else { returnTimer = setTimeout(tick, 1000); }
    };
    returnTimer = setTimeout(tick, 1000);
  }

  /* ---------- taps: the chosen answer shows, a fresh screen ignores taps for a moment ---------- */
  function swallowWhileArming(evt) {
    var s = screen();
    if (!s || !s.contains(evt.target)) { return; }
    var foot = evt.target.closest && evt.target.closest(".foot");
    var choosing = evt.type === "click" && s.classList.contains("choosing") && !foot;
    if (s.classList.contains("arming") || choosing) {
      evt.preventDefault();
      evt.stopImmediatePropagation();
    }
  }
  document.addEventListener("click", swallowWhileArming, true);
  document.addEventListener("submit", swallowWhileArming, true);

  document.addEventListener("click", function (evt) {
    var button = evt.target.closest ? evt.target.closest("#screen .step-form button[type=submit]") : null;
    if (!button) { return; }
    var s = screen();
    if (button.name === "value") {
      s.querySelectorAll(".step-form button[name=value]").forEach(function (b) {
        b.classList.toggle("selected", b === button);
        b.setAttribute("aria-pressed", b === button ? "true" : "false");
      });
    }
    chosenAt = Date.now();
    s.classList.add("choosing");
  });

  /* Typed text is kept for this visitor (Kembali and back again, "Lewati" does not lose it). */
  function toggleSkip(s) {
    var text = s.querySelector("#saran-input"), skip = s.querySelector(".btn-skip");
    if (text && skip) { skip.hidden = text.value.trim() !== ""; }
  }
  document.addEventListener("input", function (evt) {
    if (!cur) { return; }
    if (evt.target.id === "saran-input") { cur.drafts.saran = evt.target.value; toggleSkip(screen()); }
    if (evt.target.id === "other-input") { cur.drafts.other = evt.target.value; }
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
    if (evt.target.id === "idle-restart") { resetSurvey(); }
    var speakButton = evt.target.closest && evt.target.closest("[data-speak]");
    if (speakButton) { readAloud(); }
  });

  /* ---------- read aloud: the question and its answers, in Indonesian, on the tablet ---------- */
  function speechText(s) {
    var parts = [], title = s.querySelector("h1");
    if (title) { parts.push(title.textContent.replace(/\s+/g, " ").trim()); }
    var options = [];
    s.querySelectorAll(".step-form button[name=value]").forEach(function (b) { options.push(b.textContent.replace(/\s+/g, " ").trim()); });
    if (options.length) { parts.push("Pilihan: " + options.join(", ")); }
    if (s.dataset.kind === "age") { parts.push("Ketik usia dengan tombol angka, lalu sentuh Lanjut"); }
    if (s.dataset.kind === "saran") { parts.push("Tulis saran, lalu sentuh Kirim penilaian, atau Lewati"); }
    return parts.join(". ") + ".";
  }
  function readAloud() {
    var synth = window.speechSynthesis, s = screen();
    if (!synth || !window.SpeechSynthesisUtterance || !s) { return; }
    synth.cancel();
    var utterance = new SpeechSynthesisUtterance(speechText(s));
    utterance.lang = "id-ID";
    utterance.rate = 0.9;
    var voices = synth.getVoices ? synth.getVoices() : [];
    for (var i = 0; i < voices.length; i++) {
      if (/^id/i.test(voices[i].lang)) { utterance.voice = voices[i]; break; }
    }
    synth.speak(utterance);
  }

  /* ---------- staff: long-press (3 s) on the top-left corner; closes itself ---------- */
  function touchStaff() {
    clearTimeout(staffTimer);
    var overlay = $("staff-overlay");
    if (overlay && !overlay.hidden) { staffTimer = setTimeout(closeStaff, STAFF_IDLE_MS); }
  }
  function openStaff() {
    var overlay = $("staff-overlay"), panel = $("staff-panel");
    if (!overlay) { return; }
    if (pinHTML !== null) { panel.innerHTML = pinHTML; htmx.process(panel); }
    refreshCsrf();
    stopIdle();
    show(overlay, true);
    updateOutboxCount();
    touchStaff();
  }
  function closeStaff() {
    clearTimeout(staffTimer);
    var overlay = $("staff-overlay"), panel = $("staff-panel");
    if (overlay && !overlay.hidden) {
      show(overlay, false);
      if (pinHTML !== null && panel) { panel.innerHTML = pinHTML; htmx.process(panel); }  // no menu left open
      armIdle();
    }
  }
  function cancelPress() { clearTimeout(pressTimer); pressTimer = null; }
  document.addEventListener("pointerdown", function (evt) {
    if (evt.target.id === "staff-corner") { cancelPress(); pressTimer = setTimeout(openStaff, 3000); }
    if (evt.target.closest && evt.target.closest("#staff-overlay")) { touchStaff(); }
  });
  ["pointerup", "pointercancel", "pointerleave"].forEach(function (name) {
    document.addEventListener(name, function (evt) { if (evt.target.id === "staff-corner") { cancelPress(); } });
  });
  // A staff action restarts the survey: this visitor's answers go with it.
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var elt = evt.detail.elt;
    if (elt && elt.closest && elt.closest("#staff-panel") && /\/staff\/(restart|pause|service)/.test(evt.detail.pathInfo.requestPath || "")) {
      forgetVisitor();
      clearPack();
    }
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
  window.skmKiosk = { outbox: outboxItems, flush: flushOutbox };  // for staff tools and tests
  onScreen();
  flushOutbox();
}());
