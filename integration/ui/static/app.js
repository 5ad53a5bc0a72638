// Shared page behaviour: calls to the REST API with the session cookie and the CSRF header,
// and the small buttons of the setup, health and history pages.
"use strict";

const Journey = {
  csrf: document.querySelector('meta[name="csrf-token"]').content,

  // fetch() a URL of this site; resolves to {ok, status, body} whatever the status.
  async call(method, url, body) {
    const headers = {"X-CSRF-Token": this.csrf, "Accept": "application/json"};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(url, {method, headers, credentials: "same-origin",
                                       body: body === undefined ? undefined : JSON.stringify(body)});
    const type = response.headers.get("Content-Type") || "";
    const data = type.includes("json") ? await response.json() : await response.text();
    return {ok: response.ok, status: response.status, body: data};
  },

  // The message of an API error body, or a generic one.
  errorText(result) {
    const error = result.body && result.body.error;
    return error ? `${error.message} (${error.code})` : `The request failed (HTTP ${result.status}).`;
  },

  say(element, text, ok) {
    element.textContent = text;
    element.className = ok ? "result ok-text" : "result error-text";
  },

  el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    children.forEach((c) => node.append(c));
    return node;
  },
};

function provisionButton(button) {
  const out = document.getElementById("provision-result");
  button.addEventListener("click", async () => {
    button.disabled = true;
    out.textContent = "Creating fields…";
    const result = await Journey.call("POST", button.dataset.url);
    button.disabled = false;
    if (!result.ok) return Journey.say(out, Journey.errorText(result), false);
    const rows = result.body.fields.map((f) => Journey.el("tr", {},
      Journey.el("td", {}, f.object), Journey.el("td", {}, Journey.el("code", {}, f.name)),
      Journey.el("td", {}, f.label),
      Journey.el("td", {}, Journey.el("span", {class: f.created ? "badge ok" : "badge"},
                                       f.created ? "created" : "already there"))));
    const created = result.body.fields.filter((f) => f.created).length;
    out.replaceChildren(
      Journey.el("p", {class: "ok-text"}, `${created} field(s) created, ${result.body.fields.length - created} already there.`),
      Journey.el("table", {class: "data", id: "provisioned"},
        Journey.el("thead", {}, Journey.el("tr", {}, ...["Object", "Field", "Label", ""].map((h) => Journey.el("th", {}, h)))),
        Journey.el("tbody", {}, ...rows)));
  });
}

function intervalForm(form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const seconds = parseInt(form.elements.sync_interval_seconds.value, 10);
    const result = await Journey.call("PATCH", form.dataset.url, {sync_interval_seconds: seconds});
    Journey.say(form.querySelector(".result"),
                result.ok ? "Saved." : Journey.errorText(result), result.ok);
  });
}

function syncButton(button) {
  const out = document.getElementById("sync-result");
  button.addEventListener("click", async () => {
    const body = button.dataset.full ? {full: true} : {};
    const result = await Journey.call("POST", button.dataset.url, body);
    Journey.say(out, result.ok ? `Sync #${result.body.run_id} queued; the worker runs it shortly.`
                               : Journey.errorText(result), result.ok);
  });
}

function retryForm(form) {
  const all = document.getElementById("select-all");
  const boxes = () => [...form.querySelectorAll('input[name="id"]')];
  all.addEventListener("change", () => boxes().forEach((b) => { b.checked = all.checked; }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const ids = boxes().filter((b) => b.checked).map((b) => parseInt(b.value, 10));
    const out = form.querySelector(".result");
    if (!ids.length) return Journey.say(out, "Select at least one item.", false);
    const result = await Journey.call("POST", form.dataset.url, {ids});
    if (!result.ok) return Journey.say(out, Journey.errorText(result), false);
    Journey.say(out, `${result.body.retried} item(s) will be retried on the next flush.`, true);
    boxes().filter((b) => b.checked).forEach((b) => b.closest("tr").classList.add("retried"));
  });
}

// Restoring an old map version: preview its effect first (the editor's preview), then save it as
// a new version only when the confirm button is pressed.
function restoreButton(button) {
  const out = document.getElementById("restore-status");
  const confirm = document.getElementById("restore-confirm");
  const box = document.getElementById("restore-preview");
  const document_ = JSON.parse(document.getElementById("restore-document").textContent);
  button.addEventListener("click", async () => {
    Journey.say(out, "Previewing…", true);
    const preview = await Journey.call("POST", button.dataset.previewUrl, {document: document_});
    if (!preview.ok) return Journey.say(out, Journey.errorText(preview), false);
    box.innerHTML = preview.body;  // server-rendered, escaped by the template
    box.hidden = false;
    confirm.hidden = false;
    Journey.say(out, "This is what restoring would do. Nothing is saved yet.", true);
  });
  confirm.addEventListener("click", async () => {
    confirm.disabled = true;
    const saved = await Journey.call("PUT", button.dataset.saveUrl, {
      document: document_, comment: `Restored version ${button.dataset.version}`});
    confirm.disabled = false;
    if (!saved.ok) return Journey.say(out, Journey.errorText(saved), false);
    window.location = `${button.dataset.editor}?saved=${saved.body.version}`;
  });
}

// The history page's diff: against the version before, or against the map in force.
function diffSwitch(group) {
  group.addEventListener("change", (event) => {
    document.querySelectorAll(".diff-pane").forEach((pane) => {
      pane.hidden = pane.dataset.pane !== event.target.value;
    });
  });
}

// The period and filter bar (filter_bar.html): a choice applies at once; "Custom dates" shows the
// date fields, which apply with the button. Dates are sent only with a custom period.
function filtersForm(form) {
  const period = form.elements.period;
  const dates = form.querySelector(".custom-dates");
  form.addEventListener("submit", () => {
    const custom = !period || period.value === "custom";
    if (dates) dates.querySelectorAll("input").forEach((input) => { input.disabled = !custom; });
  });
  form.querySelectorAll("select").forEach((select) => {
    select.addEventListener("change", () => {
      if (select === period && period.value === "custom") {
        dates.hidden = false;
        dates.querySelector("input").focus();
        return;
      }
      form.requestSubmit();
    });
  });
}

function pauseButton(button) {
  const out = document.getElementById("connection-result");
  button.addEventListener("click", async () => {
    const result = await Journey.call("PATCH", button.dataset.url,
                                      {paused: button.dataset.paused === "true"});
    if (!result.ok) return Journey.say(out, Journey.errorText(result), false);
    window.location.reload();
  });
}

function deleteButton(button) {
  const out = document.getElementById("connection-result");
  button.addEventListener("click", async () => {
    if (!window.confirm(`Delete ${button.dataset.name} and everything stored for it?`)) return;
    const result = await Journey.call("DELETE", button.dataset.url);
    if (!result.ok) return Journey.say(out, Journey.errorText(result), false);
    window.location = button.dataset.home;
  });
}

function reconnectForm(form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const settings = {};
    [...form.querySelectorAll("input[name]")].forEach((input) => {
      if (input.value.trim()) settings[input.name] = input.value.trim();
    });
    const out = form.querySelector(".result");
    Journey.say(out, "Checking the credentials…", true);
    const result = await Journey.call("PATCH", form.dataset.url, {settings});
    if (!result.ok) return Journey.say(out, Journey.errorText(result), false);
    Journey.say(out, `Reconnected: ${result.body.standing.text}`, true);
    document.getElementById("standing").textContent = result.body.standing.text;
  });
}

// The filter bar on a narrow screen (the stylesheet shows the toggle only there): folded behind
// its "Filters (n active)" button until opened.
function filterFold(fold) {
  const toggle = fold.querySelector(".filters-toggle");
  fold.classList.add("foldable");
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    fold.classList.toggle("open", open);
  });
}

// The records page's "select every record on this page" box.
function selectPage(box) {
  const boxes = () => document.querySelectorAll('#records-table tbody input[name="record"]');
  box.addEventListener("change", () => boxes().forEach((b) => { b.checked = box.checked; }));
}

const WIRING = {"#provision": provisionButton, "#interval-form": intervalForm,
                "#sync-now": syncButton, "#retry-form": retryForm, "#restore": restoreButton,
                ".diff-switch": diffSwitch,
                "#filters": filtersForm, ".filter-fold": filterFold, "#pause-toggle": pauseButton,
                "#delete-connection": deleteButton, "#reconnect-form": reconnectForm,
                "#select-page": selectPage};
Object.entries(WIRING).forEach(([selector, wire]) => {
  const element = document.querySelector(selector);
  if (element) wire(element);
});
