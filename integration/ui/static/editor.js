// The mapping editor: builds the map from the form, previews it, saves it as a new version, and
// shows each validation problem next to the field its path points at.
"use strict";

(() => {
  const form = document.getElementById("editor");
  const {saveUrl, previewUrl, doneUrl} = form.dataset;
  const original = JSON.parse(document.getElementById("map-data").textContent);
  const problemsBox = document.getElementById("problems");
  const previewBox = document.getElementById("preview");
  const status = document.getElementById("save-status");

  // A typed value: whole numbers and JSON literals as such, anything else as the text typed.
  function typed(text) {
    const trimmed = text.trim();
    if (trimmed === "") return null;
    try { return JSON.parse(trimmed); } catch (error) { return trimmed; }
  }

  // Give every row's inputs the map path the validator reports problems at.
  function renumber() {
    document.querySelectorAll("#personas tbody tr").forEach((row, i) => {
      row.dataset.path = `personas[${i}]`;
      row.querySelector(".p-key").dataset.path = `personas[${i}].key`;
      row.querySelector(".p-label").dataset.path = `personas[${i}].label`;
      row.querySelector(".conditions").dataset.path = `personas[${i}].when`;
      row.querySelectorAll(".condition").forEach((c, j) => {
        c.dataset.path = `personas[${i}].when[${j}]`;
        c.querySelector(".c-field").dataset.path = `personas[${i}].when[${j}].field`;
        c.querySelector(".c-op").dataset.path = `personas[${i}].when[${j}].op`;
        c.querySelector(".c-value").dataset.path = `personas[${i}].when[${j}].value`;
      });
    });
    document.querySelectorAll("#actions tbody tr").forEach((row, i) => {
      row.dataset.path = `actions[${i}]`;
      ["action", "stage", "persona", "stalled", "crm", "object"].forEach((key) => {
        row.querySelector(`.a-${key}`).dataset.path = `actions[${i}].${key}`;
      });
    });
  }

  function stageTable(source, select) {
    if (select.dataset.section === "stages") return (source.stages = source.stages || {});
    source.pipelines = source.pipelines || {};
    const pipeline = select.dataset.pipeline;
    return (source.pipelines[pipeline] = source.pipelines[pipeline] || {});
  }

  function buildMap() {
    const map = structuredClone(original);
    map.stages.forEach((stage, i) => {
      const value = typed(form.querySelector(`[data-path="stages[${i}].expected_days"]`).value);
      if (value === null) delete stage.expected_days; else stage.expected_days = value;
    });
    form.querySelectorAll("select.stage-pick").forEach((select) => {
      const table = stageTable(map.sources[select.dataset.crm][select.dataset.object], select);
      if (select.value) table[select.dataset.value] = select.value;
      else delete table[select.dataset.value];
    });
    map.personas = [...document.querySelectorAll("#personas tbody tr")].map((row) => ({
      key: row.querySelector(".p-key").value.trim(),
      label: row.querySelector(".p-label").value.trim(),
      when: [...row.querySelectorAll(".condition")].map((c) => {
        const condition = {field: c.querySelector(".c-field").value.trim(),
                           op: c.querySelector(".c-op").value};
        const value = typed(c.querySelector(".c-value").value);
        if (value !== null) condition.value = value;
        return condition;
      }),
    }));
    map.actions = [...document.querySelectorAll("#actions tbody tr")].map((row) => {
      const rule = {action: row.querySelector(".a-action").value.trim()};
      ["stage", "persona", "crm", "object"].forEach((key) => {
        const value = row.querySelector(`.a-${key}`).value.trim();
        if (value) rule[key] = value;
      });
      const stalled = row.querySelector(".a-stalled").value;
      if (stalled) rule.stalled = stalled === "true";
      return rule;
    });
    return map;
  }

  // "Expected days" for "expected_days".
  function words(name) {
    const text = String(name).replace(/_/g, " ");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  // Where a problem is, in the editor's words: "Consideration · Expected days" for
  // stages[1].expected_days, "Persona “Big buyer” · Condition 2 · Value", "Next best action 3 · Persona".
  function friendlyPath(path) {
    if (!path) return "The map";
    let m = path.match(/^stages\[(\d+)\](?:\.(\w+))?/);
    if (m) {
      const stage = original.stages[Number(m[1])];
      return [stage ? stage.label : `Stage ${Number(m[1]) + 1}`, m[2] && words(m[2])].filter(Boolean).join(" · ");
    }
    m = path.match(/^personas\[(\d+)\](?:\.when(?:\[(\d+)\])?)?(?:\.(\w+))?/);
    if (m) {
      const row = document.querySelectorAll("#personas tbody tr")[Number(m[1])];
      const name = row && (row.querySelector(".p-label").value.trim() || row.querySelector(".p-key").value.trim());
      const parts = [name ? `Persona “${name}”` : `Persona rule ${Number(m[1]) + 1}`];
      if (path.includes(".when")) parts.push(m[2] === undefined ? "Conditions" : `Condition ${Number(m[2]) + 1}`);
      if (m[3]) parts.push(words(m[3]));
      return parts.join(" · ");
    }
    m = path.match(/^actions\[(\d+)\](?:\.(\w+))?/);
    if (m) return [`Next best action ${Number(m[1]) + 1}`, m[2] && words(m[2])].filter(Boolean).join(" · ");
    m = path.match(/^sources\.(\w+)\.(\w+)(?:\.(?:stages|pipelines))?(.*)$/);
    if (m) {
      const rest = m[3].replace(/^\./, "").replace(/\["?|"?\]/g, " ").replace(/\./g, " ").trim();
      return [`Stage mapping ${m[1]} ${m[2]}`, rest].filter(Boolean).join(" · ");
    }
    return path.split(/[.[\]]+/).filter(Boolean).map(words).join(" · ");
  }

  // Each action rule's persona is picked from the personas the form holds now (plus the map's
  // default persona); a persona no rule names any more stays chosen, marked, for the validator.
  const actionsTable = document.getElementById("actions");
  function refreshPersonaPickers() {
    const choices = new Map();
    document.querySelectorAll("#personas tbody tr").forEach((row) => {
      const key = row.querySelector(".p-key").value.trim();
      if (key && !choices.has(key)) choices.set(key, row.querySelector(".p-label").value.trim() || key);
    });
    const fallback = actionsTable.dataset.defaultPersona;
    if (!choices.has(fallback)) choices.set(fallback, actionsTable.dataset.defaultPersonaLabel);
    document.querySelectorAll("#actions select.a-persona").forEach((select) => {
      const chosen = select.value;
      const options = [Journey.el("option", {value: ""}, "any")];
      choices.forEach((label, key) => options.push(Journey.el("option", {value: key}, label)));
      if (chosen && !choices.has(chosen)) {
        options.push(Journey.el("option", {value: chosen}, `${chosen} (not a persona of this map)`));
      }
      select.replaceChildren(...options);
      select.value = chosen;
    });
  }

  // The unsaved-changes guard: the form is dirty when the map it builds differs from the one
  // loaded. Leaving asks first (closing or reloading the tab, a link, an import); saving does not.
  let baseline = "";
  let leaving = false;
  const dirtyNote = document.getElementById("dirty-note");
  const isDirty = () => !leaving && JSON.stringify(buildMap()) !== baseline;
  function showDirty() { dirtyNote.hidden = !isDirty(); }
  function confirmLeaving(event) {
    if (!isDirty()) return;
    if (window.confirm("The map has unsaved changes. Leave this page and lose them?")) leaving = true;
    else event.preventDefault();
  }
  window.addEventListener("beforeunload", (event) => {
    if (!isDirty()) return;
    event.preventDefault();
    event.returnValue = "";  // older browsers need a value to ask
  });
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[href]");
    if (!link || link.hasAttribute("download") || link.target === "_blank" || link.getAttribute("href").startsWith("#")) return;
    confirmLeaving(event);
  }, true);
  document.querySelectorAll("form:not(#editor)").forEach((other) => other.addEventListener("submit", confirmLeaving));

  function clearProblems() {
    document.querySelectorAll(".field-error.live").forEach((e) => e.remove());
    document.querySelectorAll(".invalid").forEach((e) => e.classList.remove("invalid"));
    problemsBox.hidden = true;
    problemsBox.replaceChildren();
  }

  // The element showing ``path``, or the one showing its nearest enclosing path.
  function elementFor(path) {
    let current = path;
    while (current) {
      const found = [...document.querySelectorAll("[data-path]")].find((e) => e.dataset.path === current);
      if (found) return found;
      const cut = Math.max(current.lastIndexOf("."), current.lastIndexOf("["));
      current = cut > 0 ? current.slice(0, cut) : "";
    }
    return null;
  }

  function showProblems(details) {
    clearProblems();
    const list = Journey.el("ul");
    details.forEach((problem) => {
      const target = elementFor(problem.path);
      if (target) {
        target.classList.add("invalid");
        const note = Journey.el("span", {class: "field-error live", role: "alert"}, problem.message);
        target.after(note);
      }
      const item = Journey.el("li", {title: problem.path || "map"},
                              Journey.el("strong", {class: "problem-where"}, friendlyPath(problem.path)),
                              `: ${problem.message}`);
      if (target) item.addEventListener("click", () => { target.scrollIntoView({block: "center"}); target.focus(); });
      list.append(item);
    });
    problemsBox.replaceChildren(
      Journey.el("strong", {}, `The map has ${details.length} problem(s); nothing was saved.`), list);
    problemsBox.hidden = false;
    const first = document.querySelector(".invalid");
    if (first) first.scrollIntoView({block: "center"});
  }

  function handleFailure(result) {
    const error = result.body && result.body.error;
    if (result.status === 422 && error && Array.isArray(error.details)) {
      Journey.say(status, "Fix the fields marked in red.", false);
      return showProblems(error.details);
    }
    Journey.say(status, Journey.errorText(result), false);
  }

  async function preview() {
    Journey.say(status, "Previewing…", true);
    const result = await Journey.call("POST", previewUrl, {map: buildMap()});
    if (!result.ok) return handleFailure(result);
    clearProblems();
    status.textContent = "";
    previewBox.innerHTML = result.body;  // server-rendered, escaped by the template
    previewBox.hidden = false;
    previewBox.scrollIntoView({block: "start"});
  }

  async function save() {
    const comment = document.getElementById("comment").value.trim();
    Journey.say(status, "Saving…", true);
    const result = await Journey.call("PUT", saveUrl,
                                      {map: buildMap(), comment, author: document.body.dataset.user});
    if (!result.ok) return handleFailure(result);
    leaving = true;
    window.location = `${doneUrl}?saved=${result.body.version}`;
  }

  form.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    if (button.classList.contains("add-row")) {
      const row = document.getElementById(button.dataset.template).content.cloneNode(true);
      document.querySelector(`#${button.dataset.target} tbody`).append(row);
    } else if (button.classList.contains("add-condition")) {
      button.before(document.getElementById("condition-template").content.cloneNode(true));
    } else if (button.classList.contains("remove-condition")) {
      button.closest(".condition").remove();
    } else if (button.classList.contains("remove-row")) {
      button.closest("tr").remove();
    } else {
      return;
    }
    renumber();
    refreshPersonaPickers();
    showDirty();
  });
  form.addEventListener("change", (event) => {
    showDirty();
    if (!event.target.matches("select.stage-pick")) return;
    event.target.closest("tr").classList.toggle("unmapped", !event.target.value);
  });
  form.addEventListener("input", (event) => {
    if (event.target.matches(".p-key, .p-label")) refreshPersonaPickers();
    showDirty();
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  document.getElementById("preview-button").addEventListener("click", preview);
  document.getElementById("save-button").addEventListener("click", save);
  renumber();
  baseline = JSON.stringify(buildMap());
  // the form opens for edits only now that the guard knows it as loaded (editor.html)
  const fields = document.getElementById("editor-fields");
  fields.disabled = false;
  fields.removeAttribute("aria-busy");
})();
