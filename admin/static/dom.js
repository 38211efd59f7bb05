// dom.js: small helpers to build the page. Everything the API returns is
// put in the page as text (textContent, attribute values), never as HTML,
// so a product name cannot inject markup.

// h creates an element: h('button', {type: 'button', onclick: f}, 'Save').
// Attributes starting with "on" become event listeners; true/false toggle
// boolean attributes; null and undefined are skipped. Children may be
// strings, nodes, or (nested) arrays of them; null children are skipped.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'class') {
      el.className = v;
    } else if (v === true) {
      el.setAttribute(k, '');
    } else {
      el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

// announce says something to screen reader users through the page's
// polite live region (and shows it, so sighted users see the same).
let announceTimer = 0;
export function announce(text) {
  const region = document.getElementById('announcer');
  // Clearing first makes a repeated message be read again.
  region.textContent = '';
  clearTimeout(announceTimer);
  requestAnimationFrame(() => {
    region.textContent = text;
    // The message is a toast for sighted users: it goes after a while,
    // long enough to read it.
    announceTimer = setTimeout(() => { region.textContent = ''; }, 8000);
  });
}

// confirmAction asks a yes/no question in the page's <dialog>. A modal
// dialog keeps keyboard focus inside it and Escape cancels, which
// window.confirm also does, but this one can say which button deletes.
// Resolves true when the user confirms.
export function confirmAction(question, confirmLabel) {
  const dialog = document.getElementById('confirm');
  dialog.querySelector('#confirm-text').textContent = question;
  const ok = dialog.querySelector('[value=ok]');
  ok.textContent = confirmLabel;
  const opener = document.activeElement;
  dialog.returnValue = '';
  dialog.showModal();
  // The safe choice has focus, so Enter alone never deletes anything.
  dialog.querySelector('[value=cancel]').focus();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      if (opener && opener.isConnected) opener.focus();
      resolve(dialog.returnValue === 'ok');
    }, { once: true });
  });
}

// limitsText says what an uploaded file must be, from limits the server
// sent (/admin/config.json): "JPEG, PNG or WebP, at most 5 MB", and the
// sizes in pixels when there are any.
export function limitsText(limits) {
  const names = { 'image/jpeg': 'JPEG', 'image/png': 'PNG', 'image/webp': 'WebP' };
  const types = limits.types.map((t) => names[t] || t);
  const list = types.length > 1 ? `${types.slice(0, -1).join(', ')} or ${types[types.length - 1]}` : types[0];
  const mb = limits.max_bytes / 1024 / 1024;
  let text = `${list}, at most ${Number.isInteger(mb) ? mb : mb.toFixed(1)} MB`;
  if (limits.min_side && limits.max_side) text += `, ${limits.min_side} to ${limits.max_side} pixels a side`;
  else if (limits.min_side) text += `, at least ${limits.min_side} pixels a side`;
  else if (limits.max_side) text += `, at most ${limits.max_side} pixels a side`;
  return text;
}

// formatBytes says how big a file is in the units people use.
export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
