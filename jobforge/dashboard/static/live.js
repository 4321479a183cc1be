// jobforge dashboard: live updates over WS /api/v1/events, and small form helpers.
// Hand-written, no build step, no dependencies. Every value from the server is written with
// textContent (never innerHTML), except the job detail fragment, which the server renders
// with Jinja's autoescaping.
(() => {
  "use strict";

  const body = document.body;
  const page = body.dataset.page;
  const liveStatus = document.getElementById("live-status");
  const FINAL = new Set(["completed", "dead", "cancelled"]);
  const STATES = ["pending", "scheduled", "running", "completed", "failed", "dead", "cancelled"];

  function text(el, value) { if (el) el.textContent = String(value); }
  function safeState(s) { return STATES.includes(s) ? s : "unknown"; }
  function setStatus(state, label) {
    if (!liveStatus) return;
    liveStatus.dataset.state = state;
    liveStatus.textContent = label;
  }

  // ---- throttled refresh: at most once per second, plus a slow timer -------------------
  // The slow timer also covers a worker in another process on a SQLite file, whose events
  // cannot reach this server.
  function throttled(fn, ms) {
    let timer = null, pending = false;
    return function run() {
      if (timer) { pending = true; return; }
      fn();
      timer = setTimeout(() => { timer = null; if (pending) { pending = false; run(); } }, ms);
    };
  }

  // ---- the WebSocket ----------------------------------------------------------------------
  let retryMs = 500;
  function connect(onEvents, onOpen) {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${proto}//${location.host}/api/v1/events`);
    socket.onopen = () => { retryMs = 500; setStatus("live", "live"); onOpen(); };
    socket.onmessage = (m) => {
      let msg;
      try { msg = JSON.parse(m.data); } catch { return; }
      if (msg.type === "events") onEvents(msg);
    };
    socket.onclose = (e) => {
      // 1008: the key was revoked. Reloading shows the login page instead of stale data.
      if (e.code === 1008) { setStatus("off", "signed out"); location.reload(); return; }
      setStatus("retrying", "reconnecting…");
      setTimeout(() => connect(onEvents, onOpen), retryMs);
      retryMs = Math.min(retryMs * 2, 10000);
    };
  }

  // ---- overview ---------------------------------------------------------------------------
  // Mirrors chart.py: a "nice" vertical scale (1, 2 or 5 times a power of ten) and the
  // average of the last 10 seconds as the current rate.
  function niceCeiling(v) {
    if (v <= 1) return 1;
    const power = 10 ** Math.floor(Math.log10(v));
    for (const step of [1, 2, 5, 10]) if (step * power >= v) return step * power;
    return 10 * power;
  }

  function drawChart(series) {
    const svg = document.getElementById("throughput");
    if (!svg) return;
    const [, , w, h] = svg.getAttribute("viewBox").split(" ").map(Number);
    series = series.slice(-Number(svg.dataset.seconds || series.length));
    let peak = 0, totalC = 0, totalF = 0;
    for (const [, c, f] of series) { peak = Math.max(peak, c, f); totalC += c; totalF += f; }
    const top = niceCeiling(peak);
    const scale = (h - 4) / top;
    const step = w / Math.max(series.length - 1, 1);
    const points = (i) => series.map((s, x) => `${(x * step).toFixed(1)},${(h - 2 - s[i] * scale).toFixed(1)}`).join(" ");
    const area = (line) => (line ? `0,${h - 2} ${line} ${w},${h - 2}` : "");
    const completed = points(1), failed = points(2);
    svg.querySelector("polyline.completed").setAttribute("points", completed);
    svg.querySelector("polyline.failed").setAttribute("points", failed);
    svg.querySelector("polygon.completed").setAttribute("points", area(completed));
    svg.querySelector("polygon.failed").setAttribute("points", area(failed));
    const recent = series.slice(-10);
    const rate = (i) => (recent.reduce((sum, s) => sum + s[i], 0) / Math.max(recent.length, 1)).toFixed(1);
    const set = (name, value) => text(document.querySelector(`[data-chart="${name}"]`), value);
    set("total_completed", totalC);
    set("total_failed", totalF);
    set("peak", peak);
    set("scale_max", `${top}/s`);
    set("scale_half", `${top / 2}/s`);
    set("rate_completed", rate(1));
    set("rate_failed", rate(2));
  }

  function row(cells) {
    const tr = document.createElement("tr");
    for (const [value, cls] of cells) {
      const td = document.createElement("td");
      if (cls) td.className = cls;
      td.textContent = String(value);
      tr.appendChild(td);
    }
    return tr;
  }

  function fillRows(tbody, items, toCells, empty, cols) {
    if (!tbody) return;
    const rows = items.map((item) => row(toCells(item)));
    if (!rows.length) {
      const tr = row([[empty, "muted"]]);
      tr.firstChild.colSpan = cols;
      rows.push(tr);
    }
    tbody.replaceChildren(...rows);
  }

  // A queue row as the server draws it: the name links to its jobs, the state is a badge.
  function queueCells(tr) {
    const [name, , , state] = tr.children;
    if (!state) return;
    const link = document.createElement("a");
    link.href = `/jobs?queue=${encodeURIComponent(name.textContent)}`;
    link.textContent = name.textContent;
    name.replaceChildren(link);
    const badge = document.createElement("span");
    const paused = state.textContent === "paused";
    badge.className = `badge queue-${paused ? "paused" : "active"}`;
    badge.textContent = paused ? "paused" : "active";
    state.replaceChildren(badge);
  }

  function renderOverview(data) {
    for (const state of STATES) text(document.querySelector(`[data-count="${state}"]`), data.counts[state] ?? 0);
    text(document.querySelector('[data-field="completed_last_minute"]'), data.completed_last_minute);
    text(document.querySelector('[data-field="failed_last_minute"]'), data.failed_last_minute);
    fillRows(document.getElementById("queue-rows"), data.queues,
      (q) => [[q.name], [q.length, "num"], [q.running, "num"], [q.paused ? "paused" : "active"]], "No queues yet.", 4);
    for (const tr of document.querySelectorAll("#queue-rows tr")) queueCells(tr);
    if (data.workers) {
      fillRows(document.getElementById("worker-rows"), data.workers,
        (w) => [[w.host], [w.pid, "num"], [w.queues.join(", ")], [`${w.running} / ${w.concurrency}`, "num"],
          [w.last_seen_at.replace("T", " ").slice(0, 19)]],
        "No worker seen in the last two minutes.", 5);
    }
    drawChart(data.throughput);
  }

  function startOverview() {
    const refresh = throttled(() => {
      fetch("/ui/overview.json", { credentials: "same-origin" })
        .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
        .then(renderOverview)
        .catch(() => {});
    }, 1000);
    setInterval(refresh, 5000);
    connect(refresh, refresh);
  }

  // ---- jobs table and dead letters ----------------------------------------------------------
  // Whether a new job belongs in this list, as far as the event tells (a text search is
  // checked by the server when the notice is followed).
  function fitsFilter(job) {
    const f = body.dataset;
    if (f.filterOpen === "no") return false;
    const statuses = (f.filterStatuses || "").split(" ").filter(Boolean);
    if (statuses.length && !statuses.includes(job.status)) return false;
    if (f.filterType && f.filterType !== job.type) return false;
    if (f.filterQueue && f.filterQueue !== job.queue) return false;
    return !(f.filterTenant && f.filterTenant !== job.tenant);
  }

  function updateRows(msg) {
    let unseen = 0;
    for (const job of msg.jobs) {
      const tr = document.querySelector(`tr[data-job-id="${CSS.escape(job.job_id)}"]`);
      if (!tr) { if (job.event === "job_submitted" && fitsFilter(job)) unseen += 1; continue; }
      const badge = tr.querySelector("[data-status]");
      if (badge) {
        const state = safeState(job.status);
        badge.className = `badge state-${state}`;
        badge.textContent = state;
        badge.hidden = false;
      }
      const attempts = tr.querySelector("[data-attempts]");
      if (attempts) {
        const max = attempts.textContent.split("/")[1];
        attempts.textContent = max ? `${job.attempt} / ${max.trim()}` : String(job.attempt);
      }
      tr.classList.remove("flash-row");
      void tr.offsetWidth; // restart the highlight animation
      tr.classList.add("flash-row");
    }
    const notice = document.getElementById("new-jobs");
    if (notice && unseen && body.dataset.firstPage === "yes") notice.hidden = false;
  }

  // Filters travel in the URL: leave empty fields out of it, so shared links stay short.
  function tidyFilters() {
    const form = document.querySelector("form.filters");
    if (!form) return;
    // Wide screens have room for every filter; phones keep the rarer ones folded.
    const more = form.querySelector("details.more");
    if (more && window.matchMedia("(min-width: 48rem)").matches) more.open = true;
    form.addEventListener("submit", () => {
      for (const field of form.querySelectorAll("input:not([type=checkbox]), select")) {
        if (!field.value) field.disabled = true;
      }
      // Re-enable after the browser has read the form (back/forward may restore this page).
      setTimeout(() => { for (const field of form.elements) field.disabled = false; }, 0);
    });
  }

  function startTable() {
    tidyFilters();
    const all = document.getElementById("select-all");
    const count = document.getElementById("selected-count");
    const boxes = () => Array.from(document.querySelectorAll('input[name="ids"]'));
    const recount = () => text(count, boxes().filter((b) => b.checked).length);
    if (all) all.addEventListener("change", () => { for (const b of boxes()) b.checked = all.checked; recount(); });
    document.addEventListener("change", (e) => { if (e.target.name === "ids") recount(); });
    recount();
    connect(updateRows, () => {});
  }

  // ---- one job ------------------------------------------------------------------------------
  function startJob() {
    const id = body.dataset.jobId;
    const live = document.getElementById("job-live");
    const refresh = throttled(() => {
      fetch(`/jobs/${encodeURIComponent(id)}?fragment=1`, { credentials: "same-origin" })
        .then((r) => (r.ok ? r.text() : Promise.reject(r.status)))
        .then((html) => {
          // Keep open tracebacks open, and the keyboard focus, across the swap.
          const open = new Set(Array.from(live.querySelectorAll("details[open] summary")).map((s) => s.textContent));
          const focused = live.contains(document.activeElement) ? document.activeElement.id : "";
          live.innerHTML = html; // rendered by the server with autoescaping
          for (const s of live.querySelectorAll("details summary")) if (open.has(s.textContent)) s.parentElement.open = true;
          const again = focused && document.getElementById(focused);
          if (again) again.focus();
        })
        .catch(() => {});
    }, 500);
    const onEvents = (msg) => {
      const mine = msg.jobs.filter((j) => j.job_id === id);
      if (!mine.length) return;
      const badge = document.getElementById("job-status");
      const state = safeState(mine[mine.length - 1].status);
      if (badge) { badge.className = `badge state-${state}`; badge.textContent = state; badge.dataset.status = state; }
      refresh();
    };
    setInterval(() => {
      const badge = document.getElementById("job-status");
      if (!badge || !FINAL.has(badge.dataset.status)) refresh();
    }, 5000);
    connect(onEvents, refresh);
  }

  // ---- create form: the payload must be a JSON object before it is sent ---------------------
  function startCreate() {
    const form = document.getElementById("create-form");
    if (!form) return;
    const area = document.getElementById("c-payload");
    const msg = document.getElementById("c-payload-msg");
    const check = () => {
      let error = "";
      try {
        const value = JSON.parse(area.value || "{}");
        if (value === null || typeof value !== "object" || Array.isArray(value)) error = "The payload must be a JSON object, like {\"to\": \"a@b.c\"}.";
      } catch (e) { error = `Not valid JSON: ${e.message}`; }
      area.setAttribute("aria-invalid", error ? "true" : "false");
      msg.className = error ? "error-text" : "hint";
      msg.textContent = error || "Valid JSON object.";
      return !error;
    };
    area.addEventListener("blur", check);
    form.addEventListener("submit", (e) => { if (!check()) { e.preventDefault(); area.focus(); } });
    connect(() => {}, () => {});
  }

  // ---- queues: counts follow the events; a queue appearing or a pause elsewhere needs a reload
  function startQueues() {
    const refresh = throttled(() => {
      fetch("/ui/overview.json", { credentials: "same-origin" })
        .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
        .then((data) => {
          for (const q of data.queues) {
            const tr = document.querySelector(`tr[data-queue="${CSS.escape(q.name)}"]`);
            if (!tr) continue;
            for (const [state, n] of Object.entries(q.counts)) text(tr.querySelector(`[data-state="${state}"]`), n);
          }
        })
        .catch(() => {});
    }, 1000);
    setInterval(refresh, 5000);
    connect(refresh, refresh);
  }

  const starters = {
    overview: startOverview, jobs: startTable, dlq: startTable, job: startJob, create: startCreate, queues: startQueues,
  };
  if (liveStatus && starters[page]) starters[page]();
  else if (liveStatus) connect(() => {}, () => {});
})();
