// app.js: the admin page's entry point. It wires the sign-in form and
// routes the URL's hash to a view:
//
//   #/                      products (with ?search=...&page=N)
//   #/new                   a new product
//   #/products/SLUG         one product, its image and its gallery
//
// Routing on the hash keeps every view reloadable and bookmarkable while
// vitrine serves a single static index.html.

import { getToken, setToken, canWrite, readOnlyToken, request, ApiError } from './api.js';
import { announce } from './dom.js';
import { showProductList, showProductNew, showProduct } from './products.js';

const main = document.getElementById('main');

// The upload limits this server enforces, for the hints and file pickers.
// Should they fail to load, the note's defaults (which the server also has
// unless it was configured otherwise) keep the page usable.
const limits = await fetch('/admin/config.json')
  .then((res) => (res.ok ? res.json() : Promise.reject(new Error(`HTTP ${res.status}`))))
  .catch(() => {
    const note = { max_bytes: 5 * 1024 * 1024, min_side: 0, max_side: 0, types: ['image/jpeg', 'image/png', 'image/webp'] };
    return { product_image: { ...note, min_side: 200, max_side: 5000 }, gallery: note };
  });

// A view may start timers (the gallery polls while images render); each
// returns a cleanup function, called before the next view replaces it.
let cleanup = null;

async function route() {
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = hash.split('?');
  const params = new URLSearchParams(query);
  // signedIn: changes may be offered; readOnly: a token that may only read
  // is signed in, and the page says so where it offers nothing.
  const ctx = { main, signedIn: canWrite(), readOnly: readOnlyToken(), limits, navigate };
  const product = path.match(/^\/products\/([^/]+)\/?$/);
  if (product) {
    cleanup = await showProduct(ctx, decodeURIComponent(product[1]));
  } else if (path === '/new') {
    cleanup = await showProductNew(ctx);
  } else {
    cleanup = await showProductList(ctx, params);
  }
}

// navigate changes the view. Going to the same hash re-renders it (the
// hashchange event does not fire then).
function navigate(hash) {
  if (location.hash === hash) {
    route();
  } else {
    location.hash = hash;
  }
}

// After a route change, focus the new view's heading so screen reader and
// keyboard users start at the top of what changed.
window.addEventListener('hashchange', async () => {
  await route();
  const heading = main.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
});

// --- sign in ---

const form = document.getElementById('signin');
const signedIn = document.getElementById('signedin');
const errorBox = document.getElementById('signin-error');

function showSession() {
  const on = Boolean(getToken());
  form.hidden = on;
  signedIn.hidden = !on;
  document.getElementById('signedin-as').textContent = readOnlyToken() ? 'Signed in, read only' : 'Signed in';
  document.body.classList.toggle('readonly', !canWrite());
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const input = form.elements.token;
  const token = input.value.trim();
  errorBox.textContent = '';
  // GET /api/token/ checks the token without changing anything (401 to a
  // token vitrine does not know) and says what it may do.
  let info;
  try {
    info = await request('GET', '/api/token/', undefined, token);
  } catch (err) {
    errorBox.textContent = err instanceof ApiError && err.status === 401
      ? `That token was not accepted (${err.message}). Check that you copied all of it.`
      : err.message;
    input.focus();
    return;
  }
  setToken(token, info.scope);
  input.value = '';
  showSession();
  announce(info.scope === 'read'
    ? 'Signed in with a read-only token: you can browse but not change anything.'
    : 'Signed in. You can now make changes.');
  await route();
  document.getElementById('signout').focus();
});

document.getElementById('signout').addEventListener('click', async () => {
  setToken('');
  showSession();
  announce('Signed out. Browsing is read-only.');
  await route();
  form.elements.token.focus();
});

// A write refused with 401 means the token was revoked or never valid:
// views call this so the user is asked to sign in again.
window.addEventListener('vitrine:unauthorized', () => {
  setToken('');
  showSession();
  errorBox.textContent = 'Your token was refused. Sign in again to make changes.';
});

showSession();
route();
