// xweb-emulator dashboard: the few things a page does by itself. Every page is complete without this script.
(function () {
  "use strict";

  document.documentElement.classList.add("js");
  document.querySelectorAll(".js-only").forEach(function (element) { element.hidden = false; });

  // ---------------------------------------------------------------- the clock in the top bar and on the clock page

  var loaded = Date.now();
  var clocks = Array.prototype.slice.call(document.querySelectorAll("[data-now]"));
  function pad(number) { return String(number).padStart(2, "0"); }
  function clockText(date) {
    return date.getUTCFullYear() + "-" + pad(date.getUTCMonth() + 1) + "-" + pad(date.getUTCDate()) + " " +
      pad(date.getUTCHours()) + ":" + pad(date.getUTCMinutes()) + ":" + pad(date.getUTCSeconds());
  }
  if (clocks.length) {
    setInterval(function () {
      clocks.forEach(function (element) {
        var start = Date.parse(element.dataset.now);
        if (!isNaN(start)) { element.textContent = clockText(new Date(start + Date.now() - loaded)); }
      });
    }, 1000);
  }

  // ---------------------------------------------------------------- forms

  // Filter forms send only the fields that hold a value (the server ignores empty ones all the same).
  document.querySelectorAll("form[data-clean-get]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("input, select").forEach(function (field) {
        if (field.name && field.value === "") { field.disabled = true; }
      });
    });
  });
  document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
    select.addEventListener("change", function () {
      var form = select.form;
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
    });
  });

  // The fault form: a fault kind only for the fault action, and only the chosen vendor's kinds.
  var faultForm = document.getElementById("fault-form");
  if (faultForm) {
    var vendor = faultForm.elements.vendor, action = faultForm.elements.action, kind = faultForm.elements.fault_kind;
    var syncFaultForm = function () {
      kind.disabled = action.value !== "fault";
      kind.querySelectorAll("optgroup").forEach(function (group) {
        var mine = group.dataset.vendor === vendor.value;
        group.hidden = !mine;
        group.disabled = !mine;
      });
      var chosen = kind.selectedOptions[0];
      if (chosen && chosen.parentElement.tagName === "OPTGROUP" && chosen.parentElement.disabled) { kind.value = ""; }
      if (!kind.disabled && kind.value === "") {
        var first = kind.querySelector("optgroup:not([disabled]) option");
        if (first) { kind.value = first.value; }
      }
    };
    vendor.addEventListener("change", syncFaultForm);
    action.addEventListener("change", syncFaultForm);
    syncFaultForm();
  }

  // ---------------------------------------------------------------- copy buttons

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) { return navigator.clipboard.writeText(text); }
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } finally { document.body.removeChild(area); }
    return Promise.resolve();
  }
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.querySelector(button.dataset.copy);
      copyText(source.textContent).then(function () {
        var label = button.textContent;
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = label; }, 1400);
      });
    });
  });

  // ---------------------------------------------------------------- the calls page

  var body = document.getElementById("calls-body");
  if (!body) { return; }

  body.addEventListener("click", function (event) {
    var row = event.target.closest("tr[data-href]");
    if (!row || event.target.closest("a") || String(window.getSelection())) { return; }
    window.location.href = row.dataset.href;
  });

  if (body.dataset.live !== "true") { return; }

  var MAX_ROWS = 500;
  var after = Number(body.dataset.after) || 0, afterAt = body.dataset.afterAt || "";
  var filters = JSON.parse(body.dataset.filters || "{}");
  var template = document.getElementById("call-row-template");
  var empty = document.getElementById("calls-empty");
  var chart = document.getElementById("calls-chart");
  var status = document.getElementById("live-status");
  var toggle = document.getElementById("live-toggle");
  var paused = false, quiet = 0;
  status.hidden = false;
  toggle.hidden = false;

  function setStatus(state, text) {
    status.className = "live" + (state === "live" ? "" : " " + state);
    status.querySelector(".live-text").textContent = text;
  }
  toggle.addEventListener("click", function () {
    paused = !paused;
    toggle.textContent = paused ? "Resume" : "Pause";
    toggle.setAttribute("aria-pressed", String(paused));
    setStatus(paused ? "paused" : "live", paused ? "paused" : "live");
  });

  function outcomeClass(outcome) {
    if (outcome === "ok") { return "ok"; }
    return ["throttled", "unavailable", "dropped"].indexOf(outcome) >= 0 ? "refused" : "fault";
  }
  function duration(ms) {
    return (ms >= 100 ? Math.round(ms).toLocaleString("en-US") : String(Math.round(ms * 10) / 10)) + " ms";
  }
  function row(entry) {
    var element = template.content.querySelector("tr").cloneNode(true);
    var kind = outcomeClass(entry.outcome);
    var href = body.dataset.prefix + "/calls/" + entry.id;
    element.className = "call call-" + kind + " new";
    element.dataset.id = entry.id;
    element.dataset.href = href;
    var field = function (name) { return element.querySelector('[data-field="' + name + '"]'); };
    field("link").textContent = entry.id;
    field("link").href = href;
    field("time").textContent = entry.at.slice(11, 23);
    field("time").title = entry.at;
    field("vendor").textContent = entry.vendor;
    field("vendor").className = "vendor-tag vendor-" + entry.vendor;
    field("operation").textContent = entry.operation || entry.path;
    field("user").textContent = entry.user || "";
    field("outcome").textContent = entry.outcome;
    field("outcome").className = "outcome outcome-" + kind;
    field("status").textContent = entry.status || "—";
    field("duration").textContent = duration(entry.duration_ms);
    return element;
  }

  function refreshChart() {
    return fetch(chart.dataset.src, {cache: "no-store"}).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (html) { if (html !== null) { chart.innerHTML = html; } });
  }

  function poll() {
    if (paused) { setTimeout(poll, 1000); return; }
    var query = new URLSearchParams(filters);
    query.set("after_id", after);
    query.set("limit", "200");
    fetch(body.dataset.journal + "?" + query.toString(), {cache: "no-store", headers: {Accept: "application/json"}})
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (answer) {
        setStatus("live", "live");
        var entries = answer.requests;
        if (entries.length) {
          entries.forEach(function (entry) {
            body.insertBefore(row(entry), body.firstChild);
            if (entry.id > after) { after = entry.id; afterAt = entry.at; }
          });
          while (body.rows.length > MAX_ROWS) { body.deleteRow(body.rows.length - 1); }
          empty.hidden = true;
          quiet = 0;
          return refreshChart().then(function () { return entries.length === 200; });
        }
        // Now and then, when nothing arrives: was the journal emptied (a reset) under us? Then start again.
        quiet += 1;
        if (quiet % 5 === 0 && after > 0) {
          return fetch(body.dataset.journal + "/" + after, {cache: "no-store"}).then(function (response) {
            return response.status === 404 ? null : response.json();
          }).then(function (newest) {
            if (!newest || newest.at !== afterAt) { window.location.reload(); }
            return false;
          });
        }
        return false;
      })
      .then(function (more) { setTimeout(poll, more ? 0 : 1000); })
      .catch(function () {
        setStatus("offline", "offline, retrying");
        setTimeout(poll, 3000);
      });
  }
  setTimeout(poll, 1000);
})();
