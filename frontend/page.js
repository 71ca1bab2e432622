// The small script every admin page loads beside the server's HTML (the islands are in the
// wasm): it shows each <time class="local"> in the browser's language and time zone (the UTC
// time stays on hover), also in HTML that arrives later (Mail Activity's refresh, a test's
// result), and makes each <button data-copy="ID"> copy the text of element ID.
const style = { dateStyle: "medium", timeStyle: "long" };

function localize(root) {
  const times = root.matches?.("time.local") ? [root] : root.querySelectorAll?.("time.local") ?? [];
  for (const el of times) {
    if (el.dataset.localized === el.dateTime) continue;
    const at = new Date(el.dateTime);
    if (Number.isNaN(at.getTime())) continue;
    const text = at.toLocaleString(navigator.language || "en", style);
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
        if (status) status.textContent = "Copied.";
      } catch {
        if (status) status.textContent = "The browser did not allow copying: select the token and copy it.";
      }
    });
  }
}

function enhance(root) {
  localize(root);
  copyButtons(root);
}

enhance(document);
new MutationObserver((changes) => {
  for (const change of changes) for (const node of change.addedNodes) if (node.nodeType === 1) enhance(node);
}).observe(document.body, { childList: true, subtree: true });
