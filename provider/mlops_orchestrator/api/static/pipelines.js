// The pipelines page: GET ../pipelines, then POST ../pipelinestatus for each valid pipeline.
// Everything is rendered with textContent (config values and messages are never HTML).
"use strict";

const api = (path) => new URL(`../${path}`, window.location.href).toString();

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function statusSpan(status, label) {
  return el("span", { class: `status status-${status}`, text: label || status || "unknown" });
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

async function getJson(url, options) {
  const response = await fetch(url, { credentials: "same-origin", ...options });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(`${response.status}: ${body.message || body.detail || response.statusText}`);
  }
  return body;
}

function dagLink(dagId) {
  return el("a", { href: `/dags/${encodeURIComponent(dagId)}`, target: "_top", text: dagId });
}

function renderBroken(pipelines) {
  const broken = pipelines.filter((p) => !p.valid);
  const rows = document.getElementById("broken-rows");
  rows.replaceChildren();
  for (const pipeline of broken) {
    for (const problem of pipeline.problems) {
      rows.append(
        el("tr", { class: "broken-config", "data-file": problem.file },
          el("td", {}, el("code", { text: problem.line ? `${problem.file}:${problem.line}` : problem.file })),
          el("td", {}, el("code", { text: problem.field || "" })),
          el("td", { class: "problem-message", text: problem.message }),
          el("td", {}, dagLink(pipeline.dag_id))));
    }
  }
  document.getElementById("broken-configs").hidden = broken.length === 0;
}

function lastRunCell(run) {
  if (!run) return el("td", { class: "last-run muted", text: "never run" });
  return el("td", { class: "last-run" },
    el("span", { class: `state state-${run.state}`, text: run.state }),
    el("div", { class: "muted", text: `${run.action} · ${when(run.start_date || run.run_after)}` }));
}

function violationsChart(history) {
  // A bar per execution (oldest left): height = violations, red when any, grey when none.
  const width = 120, height = 28, gap = 2;
  const svgNs = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNs, "svg");
  svg.setAttribute("class", "violations-chart");
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  svg.setAttribute("role", "img");
  const counts = history.map((h) => h.violations || 0);
  svg.setAttribute("aria-label", `violations per execution: ${counts.join(", ")}`);
  const max = Math.max(1, ...counts);
  const bar = history.length ? Math.max(2, Math.floor(width / history.length) - gap) : 0;
  history.forEach((execution, index) => {
    const rect = document.createElementNS(svgNs, "rect");
    const h = execution.violations ? Math.max(3, (execution.violations / max) * (height - 2)) : 2;
    rect.setAttribute("x", index * (bar + gap));
    rect.setAttribute("y", height - h);
    rect.setAttribute("width", bar);
    rect.setAttribute("height", h);
    rect.setAttribute("fill", execution.violations ? "#c62828" : execution.status === "Failed" ? "#f9a825" : "#9e9e9e");
    const title = document.createElementNS(svgNs, "title");
    title.textContent = `${when(execution.scheduled_time)}: ${execution.status}, ${execution.violations} violation(s)`;
    rect.append(title);
    svg.append(rect);
  });
  return svg;
}

function stagesCell(stages) {
  const cell = el("td", { class: "resources" });
  for (const stage of stages) {
    const box = el("div", { class: "stage", "data-stage": stage.stage },
      el("span", { class: "stage-name", text: stage.stage }),
      el("span", { class: "muted", text: ` · ${stage.account || "account ?"}${stage.region ? ` · ${stage.region}` : ""}` }));
    if (stage.error) box.append(el("div", { class: "error", text: stage.error }));
    for (const instance of stage.stack_set_instances || []) {
      box.append(el("div", {}, el("span", { text: `stack set ${instance.stack_set}: ` }),
        statusSpan(instance.status), instance.reason ? el("span", { class: "muted", text: ` ${instance.reason}` }) : null));
    }
    for (const stack of stage.stacks || []) {
      box.append(el("div", { class: "stack" }, el("span", { text: `stack ${stack.name}: ` }), statusSpan(stack.status)));
    }
    for (const endpoint of stage.endpoints || []) {
      box.append(el("div", { class: "endpoint", "data-endpoint": endpoint.name },
        el("span", { text: `endpoint ${endpoint.name}: ` }),
        el("span", { class: `endpoint-status status status-${endpoint.status}`, text: endpoint.status }),
        endpoint.instance_type ? el("span", { class: "muted", text: ` on ${endpoint.instance_type}` }) : null,
        endpoint.failure_reason ? el("div", { class: "error", text: endpoint.failure_reason }) : null));
    }
    for (const job of stage.training_jobs || []) {
      box.append(el("div", {}, el("span", { text: `${job.kind} job ${job.name}: ` }), statusSpan(job.status)));
    }
    if (!(stage.stacks || []).length && !(stage.stack_set_instances || []).length && !stage.error) {
      box.append(el("div", { class: "muted", text: "nothing deployed" }));
    }
    cell.append(box);
  }
  return cell;
}

function monitorsCell(stages) {
  const cell = el("td", { class: "monitors" });
  for (const stage of stages) {
    for (const schedule of stage.monitoring_schedules || []) {
      const history = schedule.history || [];
      const last = history.length ? history[history.length - 1] : null;
      cell.append(el("div", { class: "monitor", "data-schedule": schedule.name },
        el("div", {}, el("span", { text: `${stage.stage}: ${schedule.type || "monitor"} ` }), statusSpan(schedule.status)),
        violationsChart(history),
        el("div", { class: "muted violations-summary",
          text: last ? `latest: ${last.violations} violation(s), ${last.status}` : "no execution yet" })));
    }
  }
  return cell;
}

function pipelineRow(pipeline) {
  return el("tr", { "data-pipeline": pipeline.dag_id },
    el("td", {}, dagLink(pipeline.dag_id),
      pipeline.stack_name ? el("div", { class: "muted", text: pipeline.stack_name }) : null,
      pipeline.dag && pipeline.dag.is_paused ? el("div", { class: "muted", text: "paused" }) : null,
      pipeline.dag ? null : el("div", { class: "muted", text: "not parsed by Airflow yet" })),
    el("td", {}, el("code", { text: pipeline.pipeline_type || "?" })),
    el("td", {}, el("code", { text: pipeline.file })),
    lastRunCell(pipeline.last_run),
    el("td", { class: "resources muted", text: "loading…" }),
    el("td", { class: "monitors" }));
}

async function fillStatus(row, pipeline) {
  try {
    const status = await getJson(api("pipelinestatus"), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ pipeline_id: pipeline.dag_id }),
    });
    const stages = status.stages || [];
    row.children[3].replaceWith(lastRunCell(status.last_run));
    row.children[4].replaceWith(stagesCell(stages));
    row.children[5].replaceWith(monitorsCell(stages));
    row.setAttribute("data-loaded", "true");
  } catch (error) {
    row.children[4].replaceWith(el("td", { class: "resources error", text: String(error.message || error) }));
    row.setAttribute("data-loaded", "error");
  }
}

async function main() {
  const summary = document.getElementById("summary");
  let listing;
  try {
    listing = await getJson(api("pipelines"));
  } catch (error) {
    summary.textContent = `Cannot list pipelines: ${error.message}`;
    summary.className = "summary error";
    return;
  }
  const pipelines = listing.pipelines;
  summary.textContent = `${listing.total} pipeline config(s) in ${listing.config_folder}` +
    (listing.invalid ? `, ${listing.invalid} broken` : "");
  renderBroken(pipelines);
  const rows = document.getElementById("pipeline-rows");
  rows.replaceChildren();
  const valid = pipelines.filter((p) => p.valid);
  for (const pipeline of valid) rows.append(pipelineRow(pipeline));
  await Promise.all(valid.map((pipeline) => fillStatus(rows.querySelector(`tr[data-pipeline="${CSS.escape(pipeline.dag_id)}"]`), pipeline)));
  document.body.setAttribute("data-ready", "true");
}

main();
