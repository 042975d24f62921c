// The playground: plain browser JavaScript, no framework, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
const body = document.body;
const authRequired = body.dataset.authRequired === "true";
const KEY_STORAGE = "sayna.apiKey";  // sessionStorage only: gone when the tab closes
let catalog = {};
let audioUrl = null;

function headers(extra) {
  const result = Object.assign({}, extra);
  const key = $("api-key").value.trim();
  if (authRequired && key) result["Authorization"] = "Bearer " + key;
  return result;
}

function showStatus(message, isError) {
  $("status").textContent = message;
  $("status").classList.toggle("error", Boolean(isError));
}

async function errorMessage(response) {
  try {
    const data = await response.json();
    if (data && data.error) return data.error + (data.code ? " (" + data.code + ")" : "");
  } catch (ignored) { /* not JSON */ }
  return "HTTP " + response.status;
}

async function loadVoices() {
  showStatus("Loading voices…");
  const response = await fetch("/voices", { headers: headers({ Accept: "application/json" }) });
  if (!response.ok) {
    showStatus(await errorMessage(response), true);
    return;
  }
  catalog = await response.json();
  const provider = $("provider");
  const previous = provider.value || body.dataset.defaultProvider;
  provider.replaceChildren(...Object.keys(catalog).map((slug) => new Option(slug, slug)));
  if (catalog[previous]) provider.value = previous;
  fillVoices();
  showStatus("");
}

function fillVoices() {
  const voices = catalog[$("provider").value] || [];
  $("voice").replaceChildren(new Option("provider default", ""),
    ...voices.map((voice) => new Option(voice.name + " — " + voice.id, voice.id)));
}

async function speak() {
  const request = {
    text: $("text").value,
    provider: $("provider").value || null,
    voice_id: $("voice").value || null,
    audio_format: $("format").value,
    sample_rate: $("rate").value ? Number($("rate").value) : null,
  };
  $("speak").disabled = true;
  showStatus("Speaking…");
  const started = performance.now();
  try {
    const response = await fetch("/speak", {
      method: "POST",
      headers: headers({ "Content-Type": "application/json", Accept: "audio/*" }),
      body: JSON.stringify(request),
    });
    if (!response.ok) {
      $("result").hidden = true;
      showStatus(await errorMessage(response), true);
      return;
    }
    const blob = await response.blob();
    const elapsed = performance.now() - started;
    if (audioUrl) URL.revokeObjectURL(audioUrl);
    audioUrl = URL.createObjectURL(blob);
    const player = $("player");
    player.src = audioUrl;
    $("result-cache").textContent = response.headers.get("x-cache") || "?";
    $("result-time").textContent = Math.round(elapsed) + " ms";
    $("result-size").textContent = blob.size.toLocaleString() + " bytes (" + response.headers.get("x-audio-format")
      + ", " + response.headers.get("x-sample-rate") + " Hz)";
    $("result-voice").textContent = response.headers.get("x-provider") + " / " + response.headers.get("x-voice-id");
    $("result").hidden = false;
    showStatus("");
    player.play().catch((error) => showStatus("Press play: " + error.message, false));
  } catch (error) {
    showStatus("Request failed: " + error.message, true);
  } finally {
    $("speak").disabled = false;
  }
}

async function mintToken() {
  const response = await fetch("/livekit/token", {
    method: "POST",
    headers: headers({ "Content-Type": "application/json", Accept: "application/json" }),
    body: JSON.stringify({
      room_name: $("room").value, participant_identity: $("identity").value, participant_name: $("participant").value,
    }),
  });
  if (!response.ok) {
    $("token").textContent = await errorMessage(response);
    return;
  }
  const data = await response.json();
  $("token").textContent = "livekit_url: " + data.livekit_url + "\nroom: " + data.room_name + "\ntoken: " + data.token;
}

if (authRequired) {
  $("key-panel").hidden = false;
  $("api-key").value = sessionStorage.getItem(KEY_STORAGE) || "";
  $("api-key").addEventListener("change", () => {
    sessionStorage.setItem(KEY_STORAGE, $("api-key").value.trim());
    loadVoices();
  });
}
$("livekit-panel").hidden = body.dataset.livekitConfigured !== "true";
$("provider").addEventListener("change", fillVoices);
$("speak").addEventListener("click", speak);
$("mint").addEventListener("click", mintToken);
loadVoices();
