// Embargo's one script: progressive enhancement only. Every form works without it.
// It scores the CVSS calculator live, previews the advisory as it is typed, and fills
// a reply from a canned response. It sends nothing a plain form would not.
"use strict";

function scoreLive(form) {
  const version = form.dataset.version;
  const order = form.dataset.order.split(",");
  const vectorOut = document.getElementById("cvss-vector");
  const scoreOut = document.getElementById("cvss-score");
  const extra = form.querySelector("input[name=extra]").value;
  let vector = "CVSS:" + version;
  for (const key of order) {
    const chosen = form.querySelector("input[name=m_" + key + "]:checked");
    if (!chosen) {
      vectorOut.textContent = "choose every metric";
      scoreOut.textContent = "not scored";
      return;
    }
    // Not Defined (an optional group's default) is left out, as the specification does.
    if (chosen.value === "X") continue;
    vector += "/" + key + ":" + chosen.value;
  }
  if (extra) vector += "/" + extra;
  vectorOut.textContent = vector;
  scoreOut.textContent = "scoring…";
  fetch("/desk/cvss?vector=" + encodeURIComponent(vector), { credentials: "same-origin" })
    .then((r) => r.json())
    .then((body) => {
      if (vectorOut.textContent !== vector) return; // a later change is on its way
      scoreOut.textContent = body.error ? body.error : body.score + " " + body.severity;
    })
    .catch(() => { scoreOut.textContent = "could not score; use the Score button"; });
}

function previewLive(form) {
  const target = document.getElementById("advisory-preview");
  const data = new URLSearchParams(new FormData(form));
  data.set("intent", "preview");
  fetch(form.dataset.preview, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: data,
  })
    .then((r) => r.text())
    .then((html) => {
      const page = new DOMParser().parseFromString(html, "text/html");
      const fresh = page.getElementById("advisory-preview");
      if (fresh) target.replaceChildren(...fresh.childNodes);
    })
    .catch(() => {});
}

document.addEventListener("DOMContentLoaded", () => {
  const calc = document.getElementById("cvss-calculator");
  if (calc) calc.addEventListener("change", () => scoreLive(calc));

  const editor = document.getElementById("advisory-editor");
  if (editor) {
    let timer = null;
    editor.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => previewLive(editor), 400);
    });
  }

  const canned = document.getElementById("canned");
  const reply = document.getElementById("reply-text");
  if (canned && reply) {
    canned.addEventListener("change", () => {
      const option = canned.selectedOptions[0];
      if (option && option.dataset.text && !reply.value.trim()) reply.value = option.dataset.text;
    });
  }
});
