// The console's own script: progressive enhancement only (every form works without it).
"use strict";

// jobs: an import file over the inline limit is uploaded straight to storage with a ticket
// (docs/jobs.md, "Large files"), then the form is sent with the upload's id instead of it.
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.uploadUrl) return;
  const input = form.querySelector('input[type="file"]');
  const file = input && input.files && input.files[0];
  if (!file || file.size <= Number(form.dataset.inlineMax)) return;
  event.preventDefault();
  const status = form.querySelector(".upload-status");
  const say = (text) => { status.textContent = text; };
  const format = form.elements.namedItem("format");
  try {
    const asked = await fetch(form.dataset.uploadUrl, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "X-CSRF-Token": form.elements.namedItem("csrf_token").value,
      },
      body: JSON.stringify({ name: file.name, format: format.value, size: file.size }),
    });
    const ticket = await asked.json();
    if (!asked.ok) { say(ticket.message); return; }
    const body = new FormData();
    for (const [name, value] of Object.entries(ticket.fields)) body.append(name, value);
    body.append("file", file);
    await jobsUpload(ticket.url, body, (percent) => say(`Uploading ${file.name}: ${percent}%`));
    form.elements.namedItem("upload_id").value = ticket.upload_id;
    format.value = ticket.format;
    input.value = "";
    say(`Uploaded ${file.name}: starting the import…`);
    form.submit();
  } catch (error) {
    say(`The upload failed (${error.message}): try again.`);
  }
});

// XMLHttpRequest, not fetch: only it reports how much of the body has gone.
function jobsUpload(url, body, progress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", url);
    request.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) progress(Math.floor((100 * e.loaded) / e.total));
    });
    request.addEventListener("load", () =>
      request.status < 300 ? resolve() : reject(new Error(`status ${request.status}`)));
    request.addEventListener("error", () => reject(new Error("network error")));
    request.send(body);
  });
}
