// loosen's web player: the session list and a session's player, no build step, no libraries.
// The server renders the audio (one MP3 per session, pace and voice); this page plays it with
// an <audio> element, shows the step being spoken and its words, and gives the phone's lock
// screen, headset buttons, car and watch the step's name and the controls (Media Session API).
"use strict";

const root = (() => {
  const path = location.pathname;
  const at = path.indexOf("/session/");
  return at >= 0 ? path.slice(0, at) : path.replace(/\/$/, "");
})();
const $ = (id) => document.getElementById(id);
const RESTART_WITHIN_S = 3; // "previous" within this of a step's start goes to the step before

function clock(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return (h ? h + ":" : "") + mm + ":" + String(r).padStart(2, "0");
}

// status 0: the server could not be reached (the phone left the network, loosen stopped)
async function getJson(url) {
  let response;
  try {
    response = await fetch(url, { cache: "no-store" });
  } catch (error) {
    return { status: 0, body: null };
  }
  let body = null;
  try { body = await response.json(); } catch (error) { body = null; }
  return { status: response.status, body };
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- the session list ----------------------------------------------------------------------

async function showList() {
  const status = $("status");
  const { status: code, body } = await getJson(root + "/api/sessions");
  if (code !== 200 || !Array.isArray(body)) {
    status.textContent = "The sessions cannot be listed (" + code + ").";
    status.classList.add("failed");
    return;
  }
  status.textContent = body.length ? "" : "There are no sessions.";
  const list = $("sessions");
  for (const session of body) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = session.page;
    const img = document.createElement("img");
    img.src = session.cover; img.alt = "";
    const text = document.createElement("span");
    const name = document.createElement("span");
    name.className = "name"; name.textContent = session.title;
    const length = document.createElement("span");
    length.className = "length";
    length.textContent = (session.exact ? "" : "about ") + clock(session.length_s);
    text.append(name, length);
    link.append(img, text);
    item.append(link);
    list.append(item);
  }
}

// ---- a session's player --------------------------------------------------------------------

class Player {
  constructor(name) {
    this.name = name;
    this.audio = $("audio");
    this.steps = [];
    this.session = null;
    this.current = -1;
    this.wakeLock = null;
    this.loading = 0; // each load's number: only the newest one may show what it got
    this.loaded = { pace: "", voice: "" }; // the choices of the rendering being played
  }

  async start() {
    this.bindControls();
    await this.loadChoices();
    await this.load();
  }

  query(waiting = false) {
    const params = new URLSearchParams();
    if ($("pace").value) params.set("pace", $("pace").value);
    if ($("voice").value) params.set("voice", $("voice").value);
    if (waiting) params.set("wait", "1");
    const text = params.toString();
    return text ? "?" + text : "";
  }

  async loadChoices() {
    const { status, body } = await getJson(root + "/api/choices");
    if (status !== 200 || !body) return;
    const pace = $("pace");
    for (const choice of body.paces) {
      const option = new Option(choice.name + " – " + choice.description, choice.name);
      option.selected = choice.name === "standard";
      pace.append(option);
    }
    const voice = $("voice");
    for (const choice of body.voices) voice.append(new Option(choice.name, choice.id));
  }

  // Ask for the rendering until it is ready: the server renders on demand and says how far.
  // The session playing goes on playing meanwhile; a newer choice makes this one give up.
  async load() {
    const mine = ++this.loading;
    const choice = { pace: $("pace").value, voice: $("voice").value };
    const status = $("status");
    status.classList.remove("failed");
    if (!this.session) this.setEnabled(false);
    for (;;) {
      // wait=1: the server holds the request until the rendering is made (or a second has
      // gone, with how far it is), so the page hears at once that it can play
      const { status: code, body } = await getJson(
        root + "/api/sessions/" + encodeURIComponent(this.name) + this.query(true));
      if (mine !== this.loading) return;
      if (code === 200 && body && body.state === "ready") {
        status.textContent = "";
        this.loaded = choice;
        this.show(body);
        return;
      }
      if (code === 202 && body) {
        const percent = Math.round((body.fraction || 0) * 100);
        status.textContent = "Preparing the session: " + body.stage.toLowerCase() +
          (percent ? " " + percent + "%" : "") + "…";
        await pause(100); // the server held it a second already; this only keeps a stopping one calm
        if (mine !== this.loading) return;
        continue;
      }
      if (code === 0) {
        status.textContent = "loosen cannot be reached; trying again…";
        await pause(2000);
        if (mine !== this.loading) return;
        continue;
      }
      status.textContent = (body && body.message) || "The session cannot be prepared (" + code + ").";
      status.classList.add("failed");
      $("pace").value = this.loaded.pace; // back to what is playing
      $("voice").value = this.loaded.voice;
      return;
    }
  }

  show(session) {
    this.session = session;
    this.steps = session.steps;
    document.title = session.title + " – loosen";
    $("title").textContent = session.title;
    $("cover").src = session.cover;
    $("home").href = session.home;
    $("status").textContent = "";
    $("total").textContent = clock(session.duration_s);
    $("bar").setAttribute("aria-valuemax", String(Math.round(session.duration_s)));
    const marks = $("marks");
    marks.replaceChildren();
    for (const step of this.steps.slice(1)) {
      const mark = document.createElement("span");
      mark.style.left = (100 * step.start_s / session.duration_s) + "%";
      mark.title = step.title;
      marks.append(mark);
    }
    // a new rendering of the session playing (another pace or voice) goes on at the step that
    // is playing now, from its start
    const wasPlaying = this.audio.src !== "" && !this.audio.paused;
    const step = this.audio.src !== "" ? this.current : -1;
    const startAt = step >= 0 && this.steps[step] ? this.steps[step].start_s : 0;
    this.audio.src = session.audio;
    this.audio.currentTime = startAt;
    this.current = -1;
    this.update();
    this.setEnabled(true);
    if (wasPlaying) this.play();
  }

  setEnabled(on) {
    for (const id of ["play", "prev", "next"]) $(id).disabled = !on;
  }

  bindControls() {
    const audio = this.audio;
    $("play").addEventListener("click", () => (audio.paused ? this.play() : audio.pause()));
    $("prev").addEventListener("click", () => this.previous());
    $("next").addEventListener("click", () => this.next());
    audio.addEventListener("timeupdate", () => this.update());
    audio.addEventListener("play", () => this.playing(true));
    audio.addEventListener("pause", () => this.playing(false));
    audio.addEventListener("ended", () => this.playing(false));
    const bar = $("bar");
    const seekTo = (event) => {
      if (!this.session) return;
      const box = bar.getBoundingClientRect();
      const at = Math.min(Math.max((event.clientX - box.left) / box.width, 0), 1);
      this.seek(at * this.session.duration_s);
    };
    bar.addEventListener("pointerdown", seekTo);
    bar.addEventListener("keydown", (event) => {
      if (event.key === "ArrowLeft") { this.previous(); event.preventDefault(); }
      if (event.key === "ArrowRight") { this.next(); event.preventDefault(); }
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === " " && event.target === document.body) {
        $("play").click();
        event.preventDefault();
      }
    });
    const rerender = () => this.load();
    $("pace").addEventListener("change", rerender);
    $("voice").addEventListener("change", rerender);
    $("wake").addEventListener("change", () => this.keepAwake());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && $("wake").checked) this.keepAwake();
    });
    if ("mediaSession" in navigator) {
      const session = navigator.mediaSession;
      const handlers = {
        play: () => this.play(),
        pause: () => audio.pause(),
        stop: () => audio.pause(),
        previoustrack: () => this.previous(),
        nexttrack: () => this.next(),
        seekbackward: (d) => this.seek(audio.currentTime - (d.seekOffset || 10)),
        seekforward: (d) => this.seek(audio.currentTime + (d.seekOffset || 10)),
        seekto: (d) => this.seek(d.seekTime),
      };
      for (const [action, handler] of Object.entries(handlers)) {
        try { session.setActionHandler(action, handler); } catch (error) { /* not offered */ }
      }
    }
  }

  play() {
    return this.audio.play().catch(() => {
      $("status").textContent = "Tap play to start.";
    });
  }

  playing(on) {
    const button = $("play");
    button.classList.toggle("playing", on);
    button.setAttribute("aria-label", on ? "Pause" : "Play");
    if ("mediaSession" in navigator) navigator.mediaSession.playbackState = on ? "playing" : "paused";
  }

  seek(seconds) {
    if (!this.session) return;
    this.audio.currentTime = Math.min(Math.max(seconds, 0), this.session.duration_s);
    this.update();
  }

  stepAt(seconds) {
    let index = 0;
    for (let i = 0; i < this.steps.length; i++) if (this.steps[i].start_s <= seconds + 1e-3) index = i;
    return index;
  }

  previous() {
    const index = this.stepAt(this.audio.currentTime);
    const step = this.steps[index];
    const back = this.audio.currentTime - step.start_s < RESTART_WITHIN_S && index > 0;
    this.seek(this.steps[back ? index - 1 : index].start_s);
  }

  next() {
    const index = this.stepAt(this.audio.currentTime);
    if (index + 1 < this.steps.length) this.seek(this.steps[index + 1].start_s);
  }

  update() {
    if (!this.session) return;
    const t = this.audio.currentTime;
    const duration = this.session.duration_s;
    $("fill").style.width = (100 * Math.min(t / duration, 1)) + "%";
    $("elapsed").textContent = clock(t);
    $("bar").setAttribute("aria-valuenow", String(Math.round(t)));
    $("bar").setAttribute("aria-valuetext", clock(t) + " of " + clock(duration));
    const index = this.stepAt(t);
    if (index !== this.current) {
      this.current = index;
      const step = this.steps[index];
      $("step").textContent = step.title;
      $("lines").textContent = step.lines.join(" ");
      this.announce(step);
    }
    if ("mediaSession" in navigator && navigator.mediaSession.setPositionState && duration > 0) {
      try {
        navigator.mediaSession.setPositionState({
          duration, playbackRate: this.audio.playbackRate || 1, position: Math.min(t, duration),
        });
      } catch (error) { /* a position the browser refuses: leave the last one */ }
    }
  }

  announce(step) {
    if (!("mediaSession" in navigator) || typeof MediaMetadata === "undefined") return;
    const cover = new URL(this.session.cover, location.href).href;
    navigator.mediaSession.metadata = new MediaMetadata({
      title: step.title,
      artist: this.session.title,
      album: "loosen",
      artwork: [{ src: cover, sizes: "1400x1400", type: "image/jpeg" }],
    });
  }

  async keepAwake() {
    if (!$("wake").checked) {
      if (this.wakeLock) { await this.wakeLock.release(); this.wakeLock = null; }
      return;
    }
    if (!("wakeLock" in navigator)) {
      $("status").textContent = "This browser cannot keep the screen on.";
      $("wake").checked = false;
      return;
    }
    try {
      this.wakeLock = await navigator.wakeLock.request("screen");
    } catch (error) {
      $("status").textContent = "The screen cannot be kept on: " + error.message;
      $("wake").checked = false;
    }
  }
}

if (document.body.dataset.page === "list") {
  showList();
} else {
  const name = decodeURIComponent(location.pathname.slice(location.pathname.indexOf("/session/") + 9));
  window.loosenPlayer = new Player(name);
  window.loosenPlayer.start();
}
