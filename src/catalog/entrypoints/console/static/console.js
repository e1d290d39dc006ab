// The console's own script: progressive enhancement only (every form works without it).
"use strict";

// Image upload: the form[data-upload] is sent by XMLHttpRequest so the page can show a
// preview of the chosen file and the upload's progress, and keep a refusal next to its input.
// The server answers JSON to such a request (Accept), and the editor reloads once it is done.
// An image over data-inline-max goes straight to storage with an upload ticket instead.
(function () {
  function errorBox(form, name) {
    return form.querySelector("#e-" + name);
  }

  function showError(form, name, message) {
    var box = errorBox(form, name) || errorBox(form, "image");
    var input = form.querySelector("#f-" + box.id.slice(2));
    box.textContent = message;
    box.hidden = false;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", box.id);
    input.closest(".field").classList.add("invalid");
  }

  function clearErrors(form) {
    form.querySelectorAll("p.error").forEach(function (box) {
      var input = form.querySelector("#f-" + box.id.slice(2));
      box.hidden = true;
      box.textContent = "";
      input.removeAttribute("aria-invalid");
      input.setAttribute("aria-describedby", "h-" + box.id.slice(2));
      input.closest(".field").classList.remove("invalid");
    });
  }

  function parse(text) {
    try {
      return JSON.parse(text);
    } catch (error) {
      return null;
    }
  }

  // A refusal's messages by input: the console's own {errors: {input: message}}, or the
  // API's problem document (the body-size limit answers before the console sees the upload).
  function refusal(status, body) {
    if (body && body.errors && Object.keys(body.errors).length) return body.errors;
    if (status === 401) return { image: "Your session has ended: sign in again, then upload." };
    if (status === 403) return { image: "The upload was refused: reload the page and try again." };
    if (body && (body.title || body.detail)) {
      return { image: [body.title, body.detail].filter(Boolean).join(": ") };
    }
    return { image: "The upload failed (" + status + "): reload the page and try again." };
  }

  function enhance(form) {
    var input = form.querySelector('input[type="file"]');
    var button = form.querySelector('button[type="submit"]');
    var progressBox = form.querySelector(".upload-progress");
    var bar = progressBox.querySelector("progress");
    var preview = progressBox.querySelector(".upload-preview");
    var token = form.querySelector('input[name="csrf_token"]');
    var maxBytes = Number(form.getAttribute("data-max-bytes"));
    var inlineMax = Number(form.getAttribute("data-inline-max"));
    var ticketUrl = form.getAttribute("data-ticket-url");
    var busy = false;

    function finish(errors) {
      busy = false;
      button.disabled = false;
      progressBox.hidden = true;
      if (preview.src) URL.revokeObjectURL(preview.src);
      preview.removeAttribute("src");
      Object.keys(errors).forEach(function (name) {
        showError(form, name, errors[name]);
      });
      input.focus();
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (busy) return; // a double click sends one upload
      clearErrors(form);
      var file = input.files[0];
      if (!file) return finish({ image: "Choose an image file to upload." });
      if (maxBytes && file.size > maxBytes) {
        var mib = Math.floor(maxBytes / 1048576);
        return finish({ image: "Images are limited to " + mib + " MiB." });
      }
      busy = true;
      button.disabled = true;
      preview.src = URL.createObjectURL(file);
      bar.value = 0;
      bar.textContent = "0%";
      progressBox.hidden = false;

      var sent = ticketUrl && file.size > inlineMax ? viaTicket(file) : inline();
      sent.then(
        function (answer) {
          if (answer.ok && answer.body && answer.body.redirect) {
            bar.value = 100;
            window.location.assign(answer.body.redirect);
            return;
          }
          finish(answer.errors || refusal(answer.status, answer.body));
        },
        function () {
          finish({ image: "The upload did not reach the server: check the connection and try again." });
        },
      );
    });

    function showProgress(percent) {
      bar.value = percent;
      bar.textContent = percent + "%";
    }

    // The form as it is, to the console.
    function inline() {
      return post(form.action, new FormData(form), consoleHeaders(), showProgress);
    }

    // An image too large for a request to the console: a ticket, the file straight to
    // storage with the ticket's fields, then the console confirms it with the alt text.
    function viaTicket(file) {
      var asked = JSON.stringify({ content_type: file.type, size: file.size });
      var headers = Object.assign({ "Content-Type": "application/json" }, consoleHeaders());
      return post(ticketUrl, asked, headers).then(function (answer) {
        if (!answer.ok || !answer.body || !answer.body.url) return answer;
        var ticket = answer.body;
        var upload = new FormData();
        Object.keys(ticket.fields).forEach(function (name) {
          upload.append(name, ticket.fields[name]);
        });
        upload.append("file", file);
        return post(ticket.url, upload, {}, showProgress).then(function (stored) {
          if (!stored.ok) {
            return { errors: { image: "The upload to storage failed (" + stored.status + "): try again." } };
          }
          var confirmation = new FormData();
          confirmation.append("csrf_token", token.value);
          confirmation.append("alt", form.querySelector('input[name="alt"]').value);
          return post(ticket.confirm_url, confirmation, consoleHeaders());
        });
      });
    }

    function consoleHeaders() {
      return { Accept: "application/json", "X-CSRF-Token": token.value };
    }
  }

  // XMLHttpRequest, not fetch: only it reports how much of the body has gone.
  function post(url, body, headers, onProgress) {
    return new Promise(function (resolve, reject) {
      var request = new XMLHttpRequest();
      request.open("POST", url);
      Object.keys(headers).forEach(function (name) {
        request.setRequestHeader(name, headers[name]);
      });
      if (onProgress) {
        request.upload.onprogress = function (progress) {
          if (progress.lengthComputable) onProgress(Math.round((progress.loaded * 100) / progress.total));
        };
      }
      request.onload = function () {
        var ok = request.status >= 200 && request.status < 300;
        resolve({ ok: ok, status: request.status, body: parse(request.responseText) });
      };
      request.onerror = reject;
      request.send(body);
    });
  }

  document.querySelectorAll("form[data-upload]").forEach(enhance);
})();

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

// publication: every listing change is a new version of the product. When the panel refreshes
// itself (htmx) with a newer version whose content is still the one the editor's forms were
// rendered from (only listings and status moved), the forms take it as the version they are
// based on and the header shows the new status: a Save after a listing's outcome is not
// "stale". A content change by someone else keeps the old version, so a Save is refused.
document.addEventListener("htmx:afterSettle", (event) => {
  const panel = document.getElementById("publication");
  if (!panel || !panel.dataset.productVersion) return;
  const version = panel.dataset.productVersion;
  const shown = document.getElementById("product-version");
  if (!shown || Number(shown.textContent) >= Number(version)) return;
  const editor = document.getElementById("editor");
  if (!editor || editor.dataset.productContent !== panel.dataset.productContent) return;
  shown.textContent = version;
  document.querySelectorAll('input[type="hidden"][name="version"]').forEach((input) => {
    input.value = version;
  });
  const badge = document.querySelector("#product-status .badge");
  const status = panel.dataset.productStatus;
  if (badge && status) {
    badge.textContent = status;
    badge.className = "badge status-" + status.toLowerCase();
  }
});

// publication: the panel is replaced whole when it refreshes, which screen readers do not read
// out; each listing whose state moved is announced in a live region outside it instead.
(function () {
  const listed = () => new Map(
    Array.from(document.querySelectorAll("#publication [data-channel]"), (row) => [
      row.dataset.channel, row.dataset.state,
    ]),
  );
  let before = listed();
  document.addEventListener("htmx:afterSettle", () => {
    const announcer = document.getElementById("publication-announcer");
    const now = listed();
    const moved = [];
    now.forEach((state, channel) => {
      if (before.has(channel) && before.get(channel) !== state) moved.push(`${channel}: ${state}`);
    });
    before = now;
    if (announcer && moved.length) announcer.textContent = `Listing ${moved.join(", ")}`;
  });
})();
