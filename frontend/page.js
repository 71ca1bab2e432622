// The small script every admin page loads beside the server's HTML (the islands are in the
// wasm): it shows each <time class="local"> in the browser's language and time zone (the UTC
// time stays on hover), also in HTML that arrives later (Mail Activity's refresh, a test's
// result), makes each <button data-copy="ID"> copy the text of element ID, on Settings ›
// Mail Templates renders the preview again as the admin types and keeps the text on the page
// when a save is refused, and keeps Mail Activity's list current.
const style = { dateStyle: "medium", timeStyle: "long" };

function localize(root) {
  const times = root.matches?.("time.local") ? [root] : root.querySelectorAll?.("time.local") ?? [];
  for (const el of times) {
    if (el.dataset.localized === el.dateTime) continue;
    const at = new Date(el.dateTime);
    if (Number.isNaN(at.getTime())) continue;
    // In the page's language (the admin's choice, else the browser's), in the browser's zone.
    const text = at.toLocaleString(document.documentElement.lang || navigator.language || "en", style);
    // The text node itself changes (not replaced): an island hydrating it finds its node.
    const node = [...el.childNodes].find((n) => n.nodeType === Node.TEXT_NODE);
    if (node) node.data = text;
    else el.textContent = text;
    el.dataset.localized = el.dateTime;
  }
}

function copyButtons(root) {
  const buttons = root.querySelectorAll?.("button[data-copy]") ?? [];
  for (const button of buttons) {
    if (button.dataset.ready) continue;
    button.dataset.ready = "1";
    button.hidden = false;
    const status = document.getElementById(`${button.dataset.copy}-copied`);
    button.addEventListener("click", async () => {
      const text = document.getElementById(button.dataset.copy)?.textContent?.trim() ?? "";
      try {
        await navigator.clipboard.writeText(text);
        if (status) status.textContent = button.dataset.copied ?? "Copied.";
      } catch {
        if (status) status.textContent = button.dataset.copyFailed ?? "The browser did not allow copying: select the token and copy it.";
      }
    });
  }
}

// The preview section's content from the server's answer (the same markup it renders).
function showPreview(section, preview) {
  section.querySelector(".template-problems")?.remove();
  if (preview.problems.length) {
    const box = document.createElement("div");
    box.className = "error template-problems";
    box.setAttribute("role", "alert");
    const list = box.appendChild(document.createElement("ul"));
    for (const problem of preview.problems) list.appendChild(document.createElement("li")).textContent = problem;
    section.querySelector("h2").after(box);
  }
  section.querySelector(".preview-subject").textContent = preview.subject;
  section.querySelector(".preview-text").textContent = preview.text;
  const frame = section.querySelector(".preview-html");
  frame.srcdoc = preview.html ?? "";
  frame.hidden = !preview.html;
}

// An AppError's JSON in words (the server's own words where it sent them; the page's, in its
// language, from the form's data attributes).
function refusal(form, error) {
  if (typeof error?.Refused === "string") return error.Refused;
  if (typeof error?.BadRequest === "string") return error.BadRequest;
  if (error?.Conflict) return form.dataset.conflict;
  if (error === "NotAuthenticated") return form.dataset.sessionEnded;
  return form.dataset.refused;
}

function templateEditors(root) {
  const forms = root.querySelectorAll?.("form.template-editor[data-preview]") ?? [];
  for (const form of forms) {
    if (form.dataset.ready) continue;
    form.dataset.ready = "1";
    const section = document.getElementById("template-preview");
    const post = (url, extra) => {
      const body = new URLSearchParams();
      for (const [key, value] of new FormData(form)) body.append(key, value);
      if (extra?.name) body.append(extra.name, extra.value);
      return fetch(url, { method: "POST", body, headers: { Accept: "application/json" } });
    };
    let timer;
    let asked = 0;
    form.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const mine = ++asked;
        try {
          const answer = await post(form.dataset.preview);
          if (mine === asked && answer.ok) showPreview(section, await answer.json());
        } catch {
          // The next keystroke asks again.
        }
      }, 250);
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = event.submitter;
      const url = button?.getAttribute("formaction") || form.getAttribute("action");
      let line = form.querySelector("#form-error");
      const say = (text) => {
        if (!line) {
          line = document.createElement("p");
          line.className = "error";
          line.id = "form-error";
          line.setAttribute("role", "alert");
          form.querySelector(".actions").before(line);
        }
        line.textContent = text;
      };
      try {
        const answer = await post(url, button);
        // Done: the server names the page to go to (the template saved, or Mail Activity).
        if (answer.ok) {
          location.href = answer.headers.get("location") || location.href;
          return;
        }
        say(refusal(form, await answer.json().catch(() => null)));
      } catch {
        say(form.dataset.unreachable);
      }
    });
  }
}

// Mail Activity's list refreshes itself every few seconds while the tab is visible: the
// server renders it again (the `data-refresh` server function, with the page's query) and it
// replaces the old one, unless the admin is in it (focus inside); open messages stay open.
function activityLive(root) {
  const live = root.querySelector?.("#activity-live[data-refresh]");
  if (!live || live.dataset.ready) return;
  live.dataset.ready = "1";
  const body = JSON.stringify({ query: JSON.parse(live.dataset.query) });
  let busy = false;
  setInterval(async () => {
    if (busy || document.hidden) return;
    busy = true;
    try {
      const answer = await fetch(live.dataset.refresh, {
        method: "POST",
        body,
        headers: { "Content-Type": "application/json", Accept: "application/json" },
      });
      if (answer.ok) replaceList(await answer.json());
    } catch {
      // The next round asks again.
    } finally {
      busy = false;
    }
  }, Number(live.dataset.seconds) * 1000);
}

function replaceList(html) {
  const list = document.getElementById("activity");
  if (typeof html !== "string" || !list || list.contains(document.activeElement) || list.innerHTML === html) return;
  const open = [...list.querySelectorAll("li.message details[open]")].map((d) => d.parentElement?.id).filter(Boolean);
  list.innerHTML = html;
  for (const id of open) list.querySelector(`#${CSS.escape(id)} details`)?.setAttribute("open", "");
}

function enhance(root) {
  localize(root);
  copyButtons(root);
  templateEditors(root);
  activityLive(root);
}

enhance(document);
new MutationObserver((changes) => {
  for (const change of changes) for (const node of change.addedNodes) if (node.nodeType === 1) enhance(node);
}).observe(document.body, { childList: true, subtree: true });
