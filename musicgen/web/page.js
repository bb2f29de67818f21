// musicgen's page: ask the server for tunes, show their sheet music, play and edit them.
// User text (titles, ABC, errors) only ever goes into the page through textContent or value.
"use strict";

const $ = (selector, root = document) => root.querySelector(selector);

function setStatus(text, done = 0, total = 0) {
  $("#message").textContent = text;
  const bar = $("#progress");
  bar.hidden = total === 0;
  bar.max = Math.max(total, 1);
  bar.value = done;
}

async function postJson(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || `request failed (${response.status})`);
  return data;
}

function fill(card, tune) {
  $(".title", card).textContent = tune.title || "(untitled)";
  const error = $(".error", card);
  error.hidden = !tune.error;
  error.textContent = tune.error ? `Could not render all of it: ${tune.error}` : "";
  $(".abc", card).value = tune.abc;
  const files = tune.files || {};
  const image = $(".notation", card);
  image.hidden = !files.svg;
  if (files.svg) image.src = files.svg;
  const audio = $(".audio", card);
  if (files.wav) audio.src = files.wav; else audio.removeAttribute("src");
  $(".play", card).disabled = !files.wav;
  for (const kind of ["abc", "mid", "wav", "svg"]) {
    const link = $(`.${kind}-link`, card);
    link.hidden = !files[kind];
    if (files[kind]) link.href = `${files[kind]}?download=1`;
  }
}

function addCard(tune) {
  const card = $("#tune-card").content.firstElementChild.cloneNode(true);
  fill(card, tune);
  $(".play", card).addEventListener("click", () => {
    const audio = $(".audio", card);
    audio.currentTime = 0;
    audio.play().catch((error) => setStatus(`Cannot play: ${error.message}`));
  });
  $(".update", card).addEventListener("click", async () => {
    setStatus("Rendering your changes...");
    try {
      const tune = await postJson("/api/render", { abc: $(".abc", card).value });
      fill(card, tune);
      setStatus(tune.error ? "Not all of your changes could be rendered (see the tune)." : "Updated.");
    } catch (error) {
      setStatus(`Not updated: ${error.message}`);
    }
  });
  $("#tunes").appendChild(card);
}

function formOptions(form) {
  const options = {};
  for (const [name, value] of new FormData(form).entries()) {
    if (value === "") continue;
    const numeric = form.elements[name].type === "number";
    options[name] = numeric ? Number(value) : value;
  }
  return options;
}

let running = null;

async function follow(job) {
  let shown = 0;
  for (;;) {
    if (shown === 0 && job.tunes.length > 0) $("#tunes").replaceChildren();  // keep old tunes until new ones come
    while (shown < job.tunes.length) addCard(job.tunes[shown++]);
    if (job.error) throw new Error(job.error);
    if (job.finished) return job;
    const phase = { queued: "Waiting for the server", sampling: "Composing" }[job.phase] || "Rendering";
    setStatus(`${phase}... ${job.done} of ${job.total} tunes ready`, job.done, job.total);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const response = await fetch(`/api/jobs/${encodeURIComponent(job.id)}`);
    job = await response.json();
    if (!response.ok) throw new Error(job.error || "lost the job");
  }
}

async function generate(event) {
  event.preventDefault();
  const button = $("#generate");
  button.disabled = true;
  setStatus("Composing...", 0, 1);
  try {
    running = await postJson("/api/generate", formOptions(event.target));
    $("#stop").hidden = false;
    const job = await follow(running);
    setStatus(`${job.tunes.length} tune(s) ready.`);
  } catch (error) {
    setStatus(`Not generated: ${error.message}`);
  } finally {
    running = null;
    $("#stop").hidden = true;
    button.disabled = false;
  }
}

async function stop() {
  if (running) await postJson(`/api/jobs/${encodeURIComponent(running.id)}/cancel`, {}).catch(() => {});
}

async function loadSettings() {
  // the model's recommended sampling settings fill the form's defaults
  const response = await fetch("/api/settings").catch(() => null);
  if (!response || !response.ok) return;
  const settings = await response.json();
  const field = $("#options").elements.temperature;
  if (field && typeof settings.temperature === "number") field.value = settings.temperature;
}

document.addEventListener("DOMContentLoaded", () => {
  loadSettings();
  $("#options").addEventListener("submit", generate);
  $("#stop").addEventListener("click", stop);
});
