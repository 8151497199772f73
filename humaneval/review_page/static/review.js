// The review page: reads everything from the API with the token in the URL's fragment, draws it with
// textContent only (a worker's text is never markup), and sends each action once: the request id is made
// when the confirmation opens, so a double click or a retry sends the same id and the server acts once.
"use strict";

const state = {
  token: "",
  study: null,
  current: null, // worker name shown in the detail pane
  selected: new Set(),
  sortKey: "flags",
  sortDown: true,
  pending: null, // {action, workers, request}
};

const $ = (id) => document.getElementById(id);

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function readToken() {
  const match = /(?:^|[#&])token=([^&]+)/.exec(window.location.hash);
  if (match) {
    sessionStorage.setItem("humaneval-review-token", decodeURIComponent(match[1]));
    history.replaceState(null, "", window.location.pathname); // the token leaves the address bar
  }
  return sessionStorage.getItem("humaneval-review-token") || "";
}

async function api(path, body) {
  const options = { headers: { Authorization: `Bearer ${state.token}` } };
  if (body !== undefined) {
    options.method = "POST";
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  let data = {};
  try {
    data = await response.json();
  } catch (err) {
    data = { error: `the server answered ${response.status} without JSON` };
  }
  if (!response.ok) {
    const error = new Error(data.error || `HTTP ${response.status}`);
    error.field = data.field;
    error.status = response.status;
    throw error;
  }
  return data;
}

function seconds(value) {
  if (value === null || value === undefined) return "—";
  return value >= 90 ? `${(value / 60).toFixed(1)} min` : `${value.toFixed(0)} s`;
}

function visibleWorkers() {
  const onlyFlagged = $("only-flagged").checked;
  const onlyAwaiting = $("only-awaiting").checked;
  const run = $("run-filter").value;
  const rows = state.study.workers.filter((w) =>
    (!onlyFlagged || w.flags.length > 0) && (!onlyAwaiting || w.awaiting > 0) && (!run || w.runs.includes(run)));
  const key = state.sortKey;
  const value = (w) => (key === "flags" ? w.flags.length : w[key]);
  rows.sort((a, b) => {
    const x = value(a);
    const y = value(b);
    const order = x === y ? 0 : x === null || x === undefined ? 1 : y === null || y === undefined ? -1 :
      typeof x === "number" ? x - y : String(x).localeCompare(String(y));
    return (state.sortDown ? -order : order) || a.name.localeCompare(b.name);
  });
  return rows;
}

function drawNotes() {
  const notes = $("notes");
  notes.replaceChildren();
  const s = state.study;
  if (s.flags_note) notes.append(el("li", `Flags: ${s.flags_note}`, "warn"));
  if (s.unfinished_runs.length) {
    notes.append(el("li", `Run(s) ${s.unfinished_runs.join(", ")} not finished (live or interrupted): approve or ` +
      "reject only after a run has ended.", "warn"));
  }
  $("legend").textContent = s.flags_rule ? `Flags: ${s.flags_rule}.` : "";
}

function drawRuns() {
  const select = $("run-filter");
  const runs = [...new Set(state.study.workers.flatMap((w) => w.runs))].sort((a, b) => Number(a) - Number(b));
  const chosen = select.value;
  select.replaceChildren(el("option", "all"));
  select.firstChild.value = "";
  for (const run of runs) {
    const option = el("option", run);
    option.value = run;
    select.append(option);
  }
  select.value = runs.includes(chosen) ? chosen : "";
}

// The worker table's columns after the selection box and the name; a column no worker has a value in is left out.
const COLUMNS = [ // what decides a review first: a narrow screen scrolls to the counts
  { key: "flags", label: "Flags", cell: (w) => w.flags, always: true },
  { key: "gold", label: "Gold", cell: (w) => w.gold || "—" },
  { key: "accuracy", label: "Accuracy", cell: (w) => w.accuracy || "—" },
  { key: "onboarding", label: "Onboarding", cell: (w) => w.onboarding || "—" },
  { key: "awaiting", label: "Awaiting", cell: (w) => w.awaiting, always: true },
  { key: "median_seconds", label: "Median/unit", cell: (w) => seconds(w.median_seconds), always: true },
  { key: "approved", label: "Approved", cell: (w) => w.approved, always: true },
  { key: "rejected", label: "Rejected", cell: (w) => w.rejected, always: true },
];

function shownColumns() {
  const workers = state.study.workers;
  return COLUMNS.filter((c) => c.always || workers.some((w) => w[c.key] && w[c.key] !== "not reported"));
}

function sortButton(key, label) {
  const th = el("th");
  th.scope = "col";
  const button = el("button", label, "sort");
  button.type = "button";
  button.addEventListener("click", () => {
    state.sortDown = state.sortKey === key ? !state.sortDown : true;
    state.sortKey = key;
    drawTable();
  });
  th.setAttribute("aria-sort", key === state.sortKey ? (state.sortDown ? "descending" : "ascending") : "none");
  th.append(button);
  return th;
}

function drawTable() {
  const columns = shownColumns();
  const head = $("workers").tHead.rows[0];
  const all = el("th");
  all.scope = "col";
  const allBox = el("input");
  allBox.type = "checkbox";
  allBox.id = "select-all";
  allBox.setAttribute("aria-label", "select every worker shown");
  allBox.addEventListener("change", () => {
    for (const w of visibleWorkers()) if (allBox.checked) state.selected.add(w.name); else state.selected.delete(w.name);
    drawTable();
  });
  all.append(allBox);
  head.replaceChildren(all, sortButton("name", "Worker"), ...columns.map((c) => sortButton(c.key, c.label)));
  const body = $("workers").tBodies[0];
  body.replaceChildren();
  const rows = visibleWorkers();
  for (const w of rows) {
    const tr = el("tr");
    tr.dataset.worker = w.name;
    if (w.name === state.current) tr.classList.add("current");
    if (w.flags.length) tr.classList.add("flagged");
    const box = el("input");
    box.type = "checkbox";
    box.checked = state.selected.has(w.name);
    box.setAttribute("aria-label", `select ${w.name}`);
    box.addEventListener("change", () => {
      if (box.checked) state.selected.add(w.name); else state.selected.delete(w.name);
      drawSelection();
    });
    const pick = el("button", w.name, "link");
    pick.type = "button";
    pick.addEventListener("click", () => show(w.name));
    const first = el("td");
    first.append(box);
    const name = el("td", null, "name");
    name.append(pick);
    tr.append(first, name);
    for (const column of columns) {
      const value = column.cell(w);
      const td = el("td", Array.isArray(value) ? null : value);
      if (Array.isArray(value)) {
        for (const [i, flag] of value.entries()) {
          const tag = el("span", flag, "flag");
          tag.title = w.reasons[i] || flag;
          td.append(tag);
        }
        if (!value.length && w.untested.length) {
          const tag = el("span", "not all tested", "untested");
          tag.title = w.untested.join("\n");
          td.append(tag);
        } else if (!value.length) {
          td.textContent = "—";
        }
      }
      tr.append(td);
    }
    body.append(tr);
  }
  if (!rows.length) {
    const tr = el("tr");
    const td = el("td", state.study.workers.length ? "No worker matches the filters." : "No submitted work yet.");
    td.colSpan = columns.length + 2;
    tr.append(td);
    body.append(tr);
  }
  drawSelection();
}

function drawSelection() {
  const shown = visibleWorkers().map((w) => w.name);
  for (const name of [...state.selected]) if (!shown.includes(name)) state.selected.delete(name);
  $("selected-count").textContent = `${state.selected.size} selected`;
  $("select-all").checked = shown.length > 0 && shown.every((n) => state.selected.has(n));
  for (const b of document.querySelectorAll('button[data-scope="selected"]')) b.disabled = state.selected.size === 0;
}

function drawBlocks(container, blocks) {
  for (const block of blocks) {
    if (block.kind === "heading") {
      container.append(el("h4", block.text, block.alert ? "alert" : undefined));
    } else if (block.kind === "conversation") {
      const box = el("figure", null, block.chosen ? "conversation chosen" : "conversation");
      box.append(el("figcaption", block.chosen ? `${block.title} — chosen` : block.title));
      const list = el("ol", null, "turns");
      for (const turn of block.turns || []) {
        const item = el("li");
        item.append(el("span", turn.speaker, "speaker"), el("span", turn.text, "text"));
        if (turn.note) item.append(el("span", turn.note, turn.alert ? "note-tag alert" : "note-tag"));
        list.append(item);
      }
      box.append(list);
      container.append(box);
    } else if (block.kind === "fields") {
      const dl = el("dl", null, "fields");
      for (const [label, value] of block.rows || []) dl.append(el("dt", label), el("dd", value));
      container.append(dl);
    }
  }
}

async function show(name, focus = true) {
  state.current = name;
  drawTable();
  const worker = state.study.workers.find((w) => w.name === name);
  $("detail-title").textContent = worker ? `${name} (${worker.provider})` : name;
  $("detail-actions").hidden = !worker;
  const flags = $("detail-flags");
  flags.replaceChildren(...(worker ? [
    ...worker.reasons.map((r) => el("li", r, "flag-reason")),
    ...worker.untested.map((r) => el("li", r, "untested")),
    ...worker.bonuses.map((b) => el("li", `bonus ${b.amount}: ${b.reason} (${b.state})`, "bonus")),
  ] : []));
  const work = $("work");
  work.replaceChildren(el("p", "Loading…"));
  if (focus) {
    const stacked = window.matchMedia("(max-width: 900px)").matches; // the work is below the table: go there
    $("detail").focus({ preventScroll: !stacked });
    if (stacked) $("detail").scrollIntoView({ block: "start" });
  }
  try {
    const data = await api(`/api/work?worker=${encodeURIComponent(name)}`);
    if (state.current !== name) return;
    work.replaceChildren();
    for (const unit of data.units) {
      const section = el("section", null, "unit");
      section.append(el("h3", `Unit ${unit.unit_id} — ${statusWords(unit.status)}`));
      drawBlocks(section, unit.blocks);
      work.append(section);
    }
  } catch (err) {
    work.replaceChildren(el("p", err.message, "error"));
  }
}

function statusWords(status) {
  return { completed: "awaiting review", approved: "approved", rejected: "rejected", soft_rejected: "soft-rejected" }[status] || status;
}

function move(step) {
  const names = visibleWorkers().map((w) => w.name);
  if (!names.length) return;
  const at = names.indexOf(state.current);
  const next = names[Math.min(names.length - 1, Math.max(0, at < 0 ? 0 : at + step))];
  show(next, false);
  const row = document.querySelector(`tr[data-worker="${CSS.escape(next)}"]`);
  if (row) row.scrollIntoView({ block: "nearest" });
}

function newRequestId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const ACTION_WORDS = { approve: "Approve", reject: "Reject", bonus: "Pay a bonus to", "soft-block": "Soft-block",
  block: "Block" };

function openConfirm(action, scope) {
  const workers = scope === "selected" ? [...state.selected] : state.current ? [state.current] : [];
  if (!workers.length) return;
  state.pending = { action, workers, request: newRequestId() };
  $("confirm-title").textContent = `${ACTION_WORDS[action]} ${workers.length === 1 ? workers[0] : `${workers.length} workers`}`;
  $("confirm-who").textContent = workers.length > 1 ? workers.join(", ") : "";
  $("reason-row").hidden = !["reject", "bonus", "block"].includes(action);
  const prolific = state.study.workers.some((w) => workers.includes(w.name) && w.provider === "prolific");
  $("category-row").hidden = !(action === "reject" && prolific);
  $("amount-row").hidden = action !== "bonus";
  $("reason").value = "";
  $("amount").value = "";
  $("reason-hint").textContent = action === "reject"
    ? (prolific ? `(the worker reads it; Prolific: at least ${state.study.prolific.min_message} characters)` : "(the worker reads it)")
    : action === "bonus" ? "(the worker reads it)" : action === "block" ? "(kept with the block)" : "";
  const category = $("category");
  category.replaceChildren(el("option", "choose…"));
  category.firstChild.value = "";
  for (const c of state.study.prolific.categories) {
    const option = el("option", c);
    option.value = c;
    category.append(option);
  }
  $("preview").replaceChildren();
  $("confirm-error").textContent = "";
  $("go").disabled = true;
  $("go").textContent = "Confirm";
  $("check").disabled = false;
  $("confirm").showModal();
  if (!$("reason-row").hidden) $("reason").focus(); else $("check").focus();
  if ($("reason-row").hidden && $("amount-row").hidden) check();
}

function pendingBody() {
  const p = state.pending;
  const body = { request: p.request, action: p.action, workers: p.workers };
  if (!$("reason-row").hidden) body.reason = $("reason").value;
  if (!$("category-row").hidden) body.category = $("category").value || null;
  if (!$("amount-row").hidden) body.amount = $("amount").value;
  return body;
}

async function check() {
  $("confirm-error").textContent = "";
  $("go").disabled = true;
  try {
    const body = pendingBody();
    delete body.request;
    const data = await api("/api/preview", body);
    const list = el("ul", null, "preview-lines");
    for (const line of data.lines) list.append(el("li", line));
    $("preview").replaceChildren(list, el("p", `Pays: ${data.pays}`, "pays"));
    $("go").disabled = false;
    $("go").focus();
  } catch (err) {
    $("preview").replaceChildren();
    $("confirm-error").textContent = err.field ? `${err.field}: ${err.message}` : err.message;
  }
}

async function go() {
  const button = $("go");
  if (button.disabled) return;
  button.disabled = true; // a second click before the answer sends nothing; a retry would send the same id
  $("check").disabled = true;
  button.textContent = "Working…";
  try {
    const data = await api("/api/actions", pendingBody());
    const list = el("ul", null, "result-lines");
    for (const line of data.lines) {
      const words = line.skipped ? "skipped" : line.ok ? "done" : "FAILED";
      list.append(el("li", `${words}: ${line.action} ${line.target}${line.detail ? ` — ${line.detail}` : ""}`,
        line.ok ? "ok" : "error"));
    }
    $("preview").replaceChildren(el("p", data.repeat ? "Already done (this request was sent before):" : "Done:"), list);
    button.textContent = "Done";
    $("cancel").textContent = "Close";
    await refresh();
  } catch (err) {
    $("confirm-error").textContent = err.field ? `${err.field}: ${err.message}` : err.message;
    button.textContent = "Confirm";
    button.disabled = false; // same request id: trying again can never act twice
    $("check").disabled = false;
  }
}

async function refresh() {
  state.study = await api("/api/study");
  drawNotes();
  drawRuns();
  drawTable();
  if (state.current) show(state.current, false);
  drawAudit();
}

async function drawAudit() {
  const data = await api("/api/audit");
  const list = $("audit-lines");
  list.replaceChildren(...data.lines.map((l) => el("li",
    `${l.at} ${l.who} (${l.via}): ${l.skipped ? "skipped" : l.ok ? "" : "FAILED "}${l.action} ${l.target}${l.detail ? ` — ${l.detail}` : ""}`)));
}

function typing(event) {
  const t = event.target;
  return $("confirm").open || t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT";
}

function bind() {
  for (const button of document.querySelectorAll("button[data-action]")) {
    button.addEventListener("click", () => openConfirm(button.dataset.action, button.dataset.scope));
  }
  for (const id of ["only-flagged", "only-awaiting", "run-filter"]) $(id).addEventListener("change", drawTable);
  $("check").addEventListener("click", check);
  $("reload").addEventListener("click", async () => {
    $("reload").disabled = true;
    try {
      await api("/api/reload", {});
      await refresh();
    } catch (err) {
      $("status").textContent = err.message;
    } finally {
      $("reload").disabled = false;
    }
  });
  $("go").addEventListener("click", go);
  $("cancel").addEventListener("click", () => $("confirm").close());
  for (const id of ["reason", "amount", "category"]) {
    $(id).addEventListener("input", () => { $("go").disabled = true; $("preview").replaceChildren(); });
  }
  document.addEventListener("keydown", (event) => {
    if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
    const keys = { j: () => move(1), ArrowDown: () => move(1), k: () => move(-1), ArrowUp: () => move(-1),
      a: () => openConfirm("approve", "current"), r: () => openConfirm("reject", "current"),
      b: () => openConfirm("bonus", "current"),
      x: () => { if (state.current) { if (state.selected.has(state.current)) state.selected.delete(state.current); else state.selected.add(state.current); drawTable(); } } };
    if (keys[event.key]) {
      event.preventDefault();
      keys[event.key]();
    }
  });
}

async function start() {
  state.token = readToken();
  bind();
  if (!state.token) {
    $("status").textContent = "No token: open the address `review serve` printed (it ends with #token=…).";
    return;
  }
  try {
    await refresh();
    document.title = `Review ${state.study.task_name} — humaneval`;
    $("title").textContent = `Review: ${state.study.task_name}`;
    $("status").textContent = `Reviewer: ${state.study.reviewer}. ${state.study.workers.length} worker(s).`;
  } catch (err) {
    $("status").textContent = err.message;
  }
}

start();
