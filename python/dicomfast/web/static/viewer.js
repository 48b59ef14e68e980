// dicomfast viewer: the study list (QIDO-RS), a study's series as thumbnails,
// and an image viewer. Grey images come as raw frames (WADO-RS /frames,
// native little endian) and are windowed here, so window/level needs no round
// trip; colour images come rendered (PNG) from the server.
"use strict";

const EXPLICIT_LE = "1.2.840.10008.1.2.1";
const $ = (sel) => document.querySelector(sel);

// -- DICOM JSON helpers ------------------------------------------------------
const TAGS = {
  PatientName: "00100010", PatientID: "00100020", PatientBirthDate: "00100030", PatientSex: "00100040",
  StudyDate: "00080020", StudyTime: "00080030", AccessionNumber: "00080050", StudyDescription: "00081030",
  ModalitiesInStudy: "00080061", NumberOfStudyRelatedSeries: "00201206", NumberOfStudyRelatedInstances: "00201208",
  StudyInstanceUID: "0020000D", SeriesInstanceUID: "0020000E", SOPInstanceUID: "00080018",
  Modality: "00080060", SeriesNumber: "00200011", SeriesDescription: "0008103E",
  NumberOfSeriesRelatedInstances: "00201209", InstanceNumber: "00200013", NumberOfFrames: "00280008",
  Rows: "00280010", Columns: "00280011", BitsAllocated: "00280100", BitsStored: "00280101",
  PixelRepresentation: "00280103", SamplesPerPixel: "00280002", PhotometricInterpretation: "00280004",
  RescaleSlope: "00281053", RescaleIntercept: "00281052", WindowCenter: "00281050", WindowWidth: "00281051",
  ImagePositionPatient: "00200032", SliceLocation: "00201041", SliceThickness: "00180050",
  PixelSpacing: "00280030", SOPClassUID: "00080016", Manufacturer: "00080070", BodyPartExamined: "00180015",
  SeriesDate: "00080021", ContentDate: "00080023", InstitutionName: "00080080",
};

function values(obj, name) {
  const e = obj && obj[TAGS[name]];
  return e && e.Value ? e.Value : [];
}
function value(obj, name, dflt) {
  const v = values(obj, name);
  if (!v.length || v[0] === null) return dflt;
  const x = v[0];
  return typeof x === "object" && x.Alphabetic !== undefined ? x.Alphabetic : x;
}
function num(obj, name, dflt) {
  const v = value(obj, name, undefined);
  const n = v === undefined ? NaN : Number(v);
  return Number.isFinite(n) ? n : dflt;
}
function text(obj, name) {
  return values(obj, name).map((x) => (x && typeof x === "object" ? x.Alphabetic || "" : x ?? "")).join("\\");
}
function fmtDate(d) {
  return d && d.length === 8 ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)}` : d || "";
}
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

async function getJSON(url) {
  const r = await fetch(url, { headers: { Accept: "application/dicom+json" } });
  if (r.status === 204) return [];
  if (!r.ok) throw new Error(`${r.status} ${await r.text()}`);
  return r.json();
}

// -- the study list ----------------------------------------------------------
async function searchStudies(form) {
  const q = new URLSearchParams({ limit: "200", includefield: "StudyDescription" });
  const patient = form.patient.value.trim();
  const status = $("#study-status");
  if (form.date.value.trim()) q.set("StudyDate", form.date.value.trim().replaceAll("-", "") .replace(/^(\d{8})(\d{8})$/, "$1-$2"));
  if (form.modality.value.trim()) q.set("ModalitiesInStudy", form.modality.value.trim().toUpperCase());
  if (form.accession.value.trim()) q.set("AccessionNumber", form.accession.value.trim());
  status.textContent = "Searching…";
  let studies = [];
  try {
    if (patient) {
      // a name (fuzzy: any part of it) or an ID
      const [byName, byId] = await Promise.all([
        getJSON(`/studies?${q}&PatientName=${encodeURIComponent(patient)}&fuzzymatching=true`),
        getJSON(`/studies?${q}&PatientID=${encodeURIComponent(patient)}`),
      ]);
      const seen = new Set();
      for (const s of [...byName, ...byId]) {
        const uid = value(s, "StudyInstanceUID");
        if (!seen.has(uid)) { seen.add(uid); studies.push(s); }
      }
    } else {
      studies = await getJSON(`/studies?${q}`);
    }
  } catch (err) {
    status.textContent = `Search failed: ${err.message}`;
    return;
  }
  studies.sort((a, b) => (value(b, "StudyDate", "") + value(b, "StudyTime", "")).localeCompare(value(a, "StudyDate", "") + value(a, "StudyTime", "")));
  const tbody = $("#study-list tbody");
  tbody.replaceChildren();
  for (const s of studies) {
    const uid = value(s, "StudyInstanceUID");
    tbody.append(el("tr", { class: "study", "data-uid": uid, onclick: () => openStudy(uid, true) },
      el("td", {}, text(s, "PatientName").replaceAll("^", " ")), el("td", {}, text(s, "PatientID")),
      el("td", {}, fmtDate(value(s, "StudyDate", ""))), el("td", {}, text(s, "StudyDescription")),
      el("td", {}, text(s, "ModalitiesInStudy")), el("td", {}, text(s, "AccessionNumber")),
      el("td", {}, String(num(s, "NumberOfStudyRelatedSeries", ""))), el("td", {}, String(num(s, "NumberOfStudyRelatedInstances", "")))));
  }
  status.textContent = studies.length ? `${studies.length} stud${studies.length === 1 ? "y" : "ies"}` : "No study matches.";
}

// -- a study -------------------------------------------------------------------
const state = {
  study: null, series: null, images: [], index: 0, meta: null,
  wl: null, zoom: 1, panX: 0, panY: 0, cache: new Map(), timer: null, token: 0,
};

async function openStudy(uid, push) {
  if (push) history.pushState({ study: uid }, "", `/viewer?study=${encodeURIComponent(uid)}`);
  $("#studies").hidden = true;
  $("#study").hidden = false;
  state.study = uid;
  const list = $("#series-list");
  list.replaceChildren("Loading…");
  let series;
  try {
    series = await getJSON(`/studies/${uid}/series`);
  } catch (err) {
    list.replaceChildren(`Cannot open the study: ${err.message}`);
    return;
  }
  series.sort((a, b) => num(a, "SeriesNumber", 0) - num(b, "SeriesNumber", 0));
  list.replaceChildren();
  for (const s of series) {
    const suid = value(s, "SeriesInstanceUID");
    const label = `${value(s, "Modality", "")} #${value(s, "SeriesNumber", "")} ${text(s, "SeriesDescription")} (${num(s, "NumberOfSeriesRelatedInstances", "?")})`;
    list.append(el("div", { class: "series", "data-uid": suid, title: label, onclick: () => openSeries(suid) },
      el("img", { src: `/studies/${uid}/series/${suid}/thumbnail?viewport=128,128`, alt: label }),
      el("div", { class: "label" }, label)));
  }
  if (series.length) openSeries(value(series[0], "SeriesInstanceUID"));
}

async function openSeries(suid) {
  stopCine();
  const token = ++state.token;
  for (const d of document.querySelectorAll(".series")) d.classList.toggle("active", d.dataset.uid === suid);
  state.series = suid;
  state.cache.clear();
  const meta = await getJSON(`/studies/${state.study}/series/${suid}/metadata`);
  if (token !== state.token) return;
  meta.sort((a, b) => num(a, "InstanceNumber", 0) - num(b, "InstanceNumber", 0)
    || (values(a, "ImagePositionPatient")[2] ?? 0) - (values(b, "ImagePositionPatient")[2] ?? 0));
  state.images = [];
  for (const m of meta) {
    const frames = num(m, "NumberOfFrames", 1);
    for (let f = 1; f <= frames; f++) state.images.push({ meta: m, frame: f, frames });
  }
  state.index = 0;
  state.wl = null;
  resetView();
  await show(0);
}

function frameUrl(img) {
  const m = img.meta;
  return `/studies/${state.study}/series/${state.series}/instances/${value(m, "SOPInstanceUID")}/frames/${img.frame}`;
}

// The body of a one-part multipart/related answer.
function firstPart(buf, contentType) {
  const b = /boundary="?([^";]+)"?/i.exec(contentType);
  const bytes = new Uint8Array(buf);
  if (!b) return bytes;
  let start = -1;
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) { start = i + 4; break; }
  }
  const tail = new TextEncoder().encode(`\r\n--${b[1]}`);
  let end = bytes.length - tail.length;
  outer: for (; end >= start; end--) {
    for (let j = 0; j < tail.length; j++) if (bytes[end + j] !== tail[j]) continue outer;
    break;
  }
  return bytes.subarray(start, end);
}

async function loadImage(img) {
  const key = `${value(img.meta, "SOPInstanceUID")}/${img.frame}`;
  if (state.cache.has(key)) return state.cache.get(key);
  const p = (async () => {
    const m = img.meta;
    const spp = num(m, "SamplesPerPixel", 1);
    const rows = num(m, "Rows", 0), cols = num(m, "Columns", 0);
    if (spp === 1 && [8, 16].includes(num(m, "BitsAllocated", 16))) {
      const r = await fetch(frameUrl(img), { headers: { Accept: `multipart/related; type="application/octet-stream"; transfer-syntax=${EXPLICIT_LE}` } });
      if (!r.ok) throw new Error(`${r.status} ${await r.text()}`);
      const body = firstPart(await r.arrayBuffer(), r.headers.get("Content-Type") || "");
      const aligned = body.slice().buffer;
      const bits = num(m, "BitsAllocated", 16), signed = num(m, "PixelRepresentation", 0) === 1;
      const data = bits === 8 ? (signed ? new Int8Array(aligned) : new Uint8Array(aligned)) : (signed ? new Int16Array(aligned) : new Uint16Array(aligned));
      let lo = Infinity, hi = -Infinity;
      for (let i = 0; i < data.length; i++) { const v = data[i]; if (v < lo) lo = v; if (v > hi) hi = v; }
      return { kind: "grey", rows, cols, data, lo, hi, slope: num(m, "RescaleSlope", 1), intercept: num(m, "RescaleIntercept", 0) };
    }
    // colour (or anything else): rendered by the server
    const r = await fetch(`${frameUrl(img)}/rendered`, { headers: { Accept: "image/png" } });
    if (!r.ok) throw new Error(`${r.status} ${await r.text()}`);
    const bmp = await createImageBitmap(await r.blob());
    return { kind: "rgb", rows: bmp.height, cols: bmp.width, bitmap: bmp };
  })();
  state.cache.set(key, p);
  p.catch(() => state.cache.delete(key));
  return p;
}

function defaultWL(img, px) {
  const c = num(img.meta, "WindowCenter", NaN), w = num(img.meta, "WindowWidth", NaN);
  if (Number.isFinite(c) && Number.isFinite(w) && w > 0) return { c, w };
  return fullRange(px);
}
function fullRange(px) {
  const a = px.lo * px.slope + px.intercept, b = px.hi * px.slope + px.intercept;
  return { c: (a + b) / 2, w: Math.max(1, Math.abs(b - a)) };
}

const off = document.createElement("canvas");
function paint(img, px) {
  const canvas = $("#view");
  const rect = canvas.getBoundingClientRect();
  if (canvas.width !== Math.round(rect.width) || canvas.height !== Math.round(rect.height)) {
    canvas.width = Math.round(rect.width); canvas.height = Math.round(rect.height);
  }
  off.width = px.cols; off.height = px.rows;
  const octx = off.getContext("2d");
  if (px.kind === "grey") {
    if (!state.wl) state.wl = defaultWL(img, px);
    const { c, w } = state.wl;
    const mono1 = text(img.meta, "PhotometricInterpretation").trim() === "MONOCHROME1";
    // a table from stored value to grey level (PS3.3 C.11.2.1.2.1 linear window)
    const n = px.hi - px.lo + 1, lut = new Uint8ClampedArray(n);
    for (let i = 0; i < n; i++) {
      const v = (px.lo + i) * px.slope + px.intercept;
      let y = ((v - (c - 0.5)) / (w - 1) + 0.5) * 255;
      y = y <= 0 ? 0 : y >= 255 ? 255 : y;
      lut[i] = mono1 ? 255 - y : y;
    }
    const out = octx.createImageData(px.cols, px.rows), d = out.data, src = px.data, lo = px.lo;
    for (let i = 0, j = 0; i < src.length; i++, j += 4) {
      const g = lut[src[i] - lo];
      d[j] = d[j + 1] = d[j + 2] = g; d[j + 3] = 255;
    }
    octx.putImageData(out, 0, 0);
  } else {
    octx.drawImage(px.bitmap, 0, 0);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = "#000"; ctx.fillRect(0, 0, canvas.width, canvas.height);
  const fit = Math.min(canvas.width / px.cols, canvas.height / px.rows) * state.zoom;
  ctx.imageSmoothingEnabled = fit < 1;
  ctx.setTransform(fit, 0, 0, fit, canvas.width / 2 - (px.cols * fit) / 2 + state.panX, canvas.height / 2 - (px.rows * fit) / 2 + state.panY);
  ctx.drawImage(off, 0, 0);
  const wl = state.wl ? `W ${Math.round(state.wl.w)} L ${Math.round(state.wl.c)}` : "";
  $("#overlay").textContent = `Image ${state.index + 1}/${state.images.length}` +
    (img.frames > 1 ? ` (frame ${img.frame}/${img.frames})` : "") + `\n${wl}  zoom ${state.zoom.toFixed(2)}`;
  canvas.dataset.index = String(state.index);
  canvas.dataset.wl = state.wl ? `${state.wl.c},${state.wl.w}` : "";
  document.body.dataset.imageReady = "1";
}

function showTags(img) {
  const m = img.meta;
  const rows = [
    ["Patient", text(m, "PatientName").replaceAll("^", " ")], ["Patient ID", text(m, "PatientID")],
    ["Birth date", fmtDate(value(m, "PatientBirthDate", ""))], ["Sex", text(m, "PatientSex")],
    ["Study date", fmtDate(value(m, "StudyDate", ""))], ["Study", text(m, "StudyDescription")],
    ["Accession", text(m, "AccessionNumber")], ["Modality", text(m, "Modality")],
    ["Series", `${text(m, "SeriesNumber")} ${text(m, "SeriesDescription")}`], ["Instance", text(m, "InstanceNumber")],
    ["Frames", String(img.frames)], ["Size", `${num(m, "Columns", "?")} x ${num(m, "Rows", "?")}`],
    ["Bits", `${text(m, "BitsStored")}/${text(m, "BitsAllocated")}${num(m, "PixelRepresentation", 0) ? " signed" : ""}`],
    ["Photometric", text(m, "PhotometricInterpretation")], ["Pixel spacing", text(m, "PixelSpacing")],
    ["Slice thickness", text(m, "SliceThickness")], ["Slice location", text(m, "SliceLocation")],
    ["Position", text(m, "ImagePositionPatient")], ["Rescale", `${text(m, "RescaleSlope") || 1} / ${text(m, "RescaleIntercept") || 0}`],
    ["Window (file)", `${text(m, "WindowCenter")} / ${text(m, "WindowWidth")}`], ["Body part", text(m, "BodyPartExamined")],
    ["Manufacturer", text(m, "Manufacturer")], ["Institution", text(m, "InstitutionName")],
    ["SOP Class", text(m, "SOPClassUID")], ["SOP Instance", text(m, "SOPInstanceUID")],
  ];
  $("#tags tbody").replaceChildren(...rows.filter(([, v]) => v && v.trim()).map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", {}, v))));
}

async function show(index) {
  if (!state.images.length) return;
  state.index = (index + state.images.length) % state.images.length;
  const img = state.images[state.index];
  const token = state.token;
  let px;
  try {
    px = await loadImage(img);
  } catch (err) {
    $("#overlay").textContent = `Cannot load the image: ${err.message}`;
    return;
  }
  if (token !== state.token || state.images[state.index] !== img) return;
  showTags(img);
  paint(img, px);
  for (const k of [1, 2, -1]) { // prefetch the neighbours
    const n = state.images[(state.index + k + state.images.length) % state.images.length];
    if (n) loadImage(n).catch(() => {});
  }
}

function repaint() { show(state.index); }
function resetView() { state.zoom = 1; state.panX = 0; state.panY = 0; }

function startCine() {
  stopCine();
  const fps = Math.max(1, Math.min(60, Number($("#fps").value) || 10));
  let busy = false;
  state.timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try { await show(state.index + 1); } finally { busy = false; }
  }, 1000 / fps);
  $("#play").textContent = "\u25A0 Stop";
}
function stopCine() {
  if (state.timer) clearInterval(state.timer);
  state.timer = null;
  $("#play").textContent = "\u25B6 Cine";
}

// -- mouse and keys ------------------------------------------------------------
function wireViewer() {
  const canvas = $("#view");
  let drag = null;
  canvas.addEventListener("contextmenu", (e) => e.preventDefault());
  canvas.addEventListener("mousedown", (e) => {
    drag = { x: e.clientX, y: e.clientY, pan: e.shiftKey || e.button !== 0, wl: state.wl ? { ...state.wl } : null, panX: state.panX, panY: state.panY };
  });
  window.addEventListener("mouseup", () => { drag = null; });
  window.addEventListener("mousemove", (e) => {
    if (!drag) return;
    const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (drag.pan) {
      state.panX = drag.panX + dx; state.panY = drag.panY + dy;
    } else if (drag.wl) {
      const scale = Math.max(1, drag.wl.w / 200);
      state.wl = { c: drag.wl.c + dy * scale, w: Math.max(1, drag.wl.w + dx * scale * 2) };
      $("#preset").value = "";
    }
    repaint();
  });
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    if (e.ctrlKey) {
      state.zoom = Math.min(20, Math.max(0.1, state.zoom * (e.deltaY < 0 ? 1.15 : 1 / 1.15)));
      repaint();
    } else {
      show(state.index + (e.deltaY > 0 ? 1 : -1));
    }
  }, { passive: false });
  window.addEventListener("keydown", (e) => {
    if ($("#study").hidden || e.target.tagName === "INPUT") return;
    if (e.key === "ArrowDown" || e.key === "PageDown") show(state.index + 1);
    else if (e.key === "ArrowUp" || e.key === "PageUp") show(state.index - 1);
    else return;
    e.preventDefault();
  });
  window.addEventListener("resize", repaint);
  $("#prev").onclick = () => show(state.index - 1);
  $("#next").onclick = () => show(state.index + 1);
  $("#play").onclick = () => (state.timer ? stopCine() : startCine());
  $("#zoom-in").onclick = () => { state.zoom = Math.min(20, state.zoom * 1.25); repaint(); };
  $("#zoom-out").onclick = () => { state.zoom = Math.max(0.1, state.zoom / 1.25); repaint(); };
  $("#reset").onclick = () => { resetView(); state.wl = null; $("#preset").value = ""; repaint(); };
  $("#preset").onchange = async (e) => {
    const v = e.target.value;
    if (!v) state.wl = null;
    else if (v === "auto") {
      const px = await loadImage(state.images[state.index]);
      if (px.kind === "grey") state.wl = fullRange(px);
    } else {
      const [c, w] = v.split(",").map(Number);
      state.wl = { c, w };
    }
    repaint();
  };
  $("#back").onclick = () => { stopCine(); history.pushState({}, "", "/"); showList(); };
}

function showList() {
  $("#study").hidden = true;
  $("#studies").hidden = false;
  state.token++;
}

function route() {
  const study = new URLSearchParams(location.search).get("study");
  if (study) openStudy(study, false); else showList();
}

window.addEventListener("popstate", route);
$("#search").addEventListener("submit", (e) => { e.preventDefault(); searchStudies(e.target); });
wireViewer();
searchStudies($("#search"));
route();
window.dicomfastViewer = state;
