/* Tenure web UI: draws the charts whose options the server embedded as JSON, adds the
   CSRF header to HTMX requests, and refreshes the alert queue after an action. */
(function () {
  "use strict";

  var charts = [];

  function scatterTooltip(params, names) {
    var v = params.value || [];
    var esc = function (s) {
      return String(s).replace(/[&<>"']/g, function (c) {
        return "&#" + c.charCodeAt(0) + ";";
      });
    };
    return "<b>" + esc(params.name) + "</b><br>" + esc(params.seriesName) + "<br>" +
      esc(names[0] || "x") + ": " + v[0] + "<br>" + esc(names[1] || "y") + ": " + v[1] +
      "<br>" + esc(names[2] || "") + ": " + Number(v[2] || 0).toLocaleString();
  }

  function drawCharts(root) {
    if (typeof echarts === "undefined") return;
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.drawn) return;
      var source = document.getElementById("chart-" + el.dataset.chart);
      if (!source) return;
      var option = JSON.parse(source.textContent);
      if (option.kind === "scatter") {
        var names = option.axisNames || [];
        option.tooltip.formatter = function (params) { return scatterTooltip(params, names); };
      }
      delete option.kind;
      delete option.axisNames;
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option);
      chart.on("click", function (params) {
        if (params.data && params.data.url) window.location.href = params.data.url;
      });
      el.dataset.drawn = "1";
      charts.push(chart);
    });
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : null;
  }

  // Each alert row's assignee list is filled from the page's one #team-options template.
  function fillAssignSelects(root) {
    var options = document.getElementById("team-options");
    if (!options) { return; }
    root.querySelectorAll("select.assign-select:not([data-filled])").forEach(function (select) {
      select.appendChild(options.content.cloneNode(true));
      select.value = select.dataset.current || "";
      select.dataset.filled = "1";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts(document);
    fillAssignSelects(document);
  });
  document.addEventListener("htmx:afterSettle", function () { fillAssignSelects(document); });
  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });

  document.addEventListener("htmx:configRequest", function (event) {
    var token = csrfToken();
    if (token) event.detail.headers["X-CSRF-Token"] = token;
  });

  document.addEventListener("htmx:afterSettle", function (event) { drawCharts(event.target); });

  // Alert actions call the REST API (JSON, with the CSRF header), then reload the queue.
  function showActionError(results, message) {
    var box = results.querySelector(".action-error");
    if (!box) return;
    box.textContent = box.dataset.message.replace("%s", message);
    box.hidden = false;
  }

  function runAlertAction(button) {
    var results = document.getElementById("alert-results");
    if (!results) return;
    var body = null;
    if (button.dataset.assign) {
      // Assign: the user chosen in the row's list (empty: unassign).
      var row = button.closest("tr");
      var select = row ? row.querySelector("select.assign-select") : null;
      if (!select) return;
      body = { assignee: select.value || null };
    } else if (button.dataset.field) {
      var answer = window.prompt(button.dataset.prompt || "");
      if (answer === null) return;
      answer = answer.trim();
      if (!answer && button.dataset.required) return;
      body = {};
      body[button.dataset.field] = answer || null;
    }
    var headers = { "Accept": "application/json" };
    var token = csrfToken();
    if (token) headers["X-CSRF-Token"] = token;
    if (body) headers["Content-Type"] = "application/json";
    button.disabled = true;
    fetch(button.dataset.url, {
      method: "POST",
      headers: headers,
      body: body ? JSON.stringify(body) : null,
      credentials: "same-origin"
    }).then(function (response) {
      if (response.ok) {
        htmx.ajax("GET", results.dataset.refreshUrl || window.location.href,
          { target: "#alert-results", swap: "outerHTML" });
        return;
      }
      button.disabled = false;
      return response.json().then(function (data) {
        showActionError(results, (data && data.error && data.error.message) || response.status);
      }, function () { showActionError(results, response.status); });
    }, function (error) {
      button.disabled = false;
      showActionError(results, String(error));
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-alert-action]");
    if (button) runAlertAction(button);
  });

  // Tasks: "done" posts the new status to the REST API and marks the row.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-task-done]");
    if (!button) return;
    var headers = { "Accept": "application/json", "Content-Type": "application/json" };
    var token = csrfToken();
    if (token) headers["X-CSRF-Token"] = token;
    button.disabled = true;
    fetch(button.dataset.url, {
      method: "POST", headers: headers, credentials: "same-origin",
      body: JSON.stringify({ status: "done" })
    }).then(function (response) {
      var row = button.closest("tr");
      if (response.ok && row) { row.classList.add("done"); button.remove(); return; }
      button.disabled = false;
      button.title = String(response.status);
    });
  });
})();
