// The page's behaviour: read a chosen or dropped image, POST its bytes to /api/predict, show the
// probability, the class at the checkpoint's threshold and the Grad-CAM overlay. No libraries.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { requests: 0 };

fetch("api/health").then((r) => r.json()).then((health) => {
  $("model-info").textContent = `Model ${health.model}, input ${health.imageSize}×${health.imageSize}` +
    `${health.channels === 1 ? " grayscale" : " RGB"}, decision threshold ${health.threshold.toFixed(3)}.`;
}).catch(() => { $("model-info").textContent = "The server did not answer /api/health."; });

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = false;
  $("status").textContent = "";
}

async function classify(file) {
  if (!file) return;
  const id = ++state.requests;
  $("error").hidden = true;
  $("result").hidden = true;
  $("heatmap").removeAttribute("src");
  $("output").hidden = false;
  $("preview").src = URL.createObjectURL(file);
  $("status").textContent = `Analysing ${file.name}…`;
  let response, body;
  try {
    response = await fetch("api/predict", {
      method: "POST", body: file, headers: { "Content-Type": file.type || "application/octet-stream" },
    });
    body = await response.json();
  } catch (error) {
    if (id === state.requests) showError(`The request failed: ${error}`);
    return;
  }
  if (id !== state.requests) return; // a newer file was chosen meanwhile
  if (!response.ok) {
    showError(`Error ${response.status}: ${body && body.error ? body.error.message : response.statusText}`);
    return;
  }
  const percent = (100 * body.probability).toFixed(1) + "%";
  $("probability").textContent = percent;
  $("probability-bar").style.width = percent;
  $("threshold-mark").style.left = (100 * body.threshold).toFixed(1) + "%";
  $("result-label").textContent = body.label;
  $("result-label").className = body.label;
  $("threshold-text").textContent = `Class ${body.label} because the probability is ` +
    `${body.probability >= body.threshold ? "at or above" : "below"} the model's threshold ${body.threshold.toFixed(3)} ` +
    `(model ${body.model}` + (body.heatmap ? `; heatmap of layer ${body.heatmapLayer}).` : `; it has no convolution, so no heatmap).`);
  if (body.heatmap) $("heatmap").src = body.heatmap;
  $("opacity").disabled = !body.heatmap;
  $("result").hidden = false;
  $("status").textContent = `Done: ${file.name}`;
}

$("file").addEventListener("change", (event) => classify(event.target.files[0]));

const zone = $("drop-zone");
["dragenter", "dragover"].forEach((name) => zone.addEventListener(name, (event) => {
  event.preventDefault();
  zone.classList.add("dragging");
}));
["dragleave", "drop"].forEach((name) => zone.addEventListener(name, () => zone.classList.remove("dragging")));
zone.addEventListener("drop", (event) => {
  event.preventDefault();
  classify(event.dataTransfer.files[0]);
});

$("opacity").addEventListener("input", (event) => {
  $("heatmap").style.opacity = event.target.value / 100;
  $("opacity-value").textContent = `${event.target.value}%`;
});
