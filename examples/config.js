// config.js: where the examples find vitrine and the token.
//
// The design note's code uses a global `token` and relative URLs
// (/api/products/...), which only work when the page is served by the API
// itself. A shop's storefront or back office usually lives on another
// origin, so here the API's base URL is a module constant too, and the
// vitrine server must list this page's origin in VITRINE_CORS_ORIGINS.
//
// Both are typed into the small form at the top of each page and kept in
// sessionStorage (never in the URL). In a real shop they would come from
// the app's configuration and its login.

export let API = sessionStorage.getItem('example.api') || 'http://127.0.0.1:8000';
export let token = sessionStorage.getItem('example.token') || '';

const apiInput = document.querySelector('#api-url');
const tokenInput = document.querySelector('#api-token');
if (apiInput && tokenInput) {
  apiInput.value = API;
  tokenInput.value = token;
  apiInput.addEventListener('input', () => {
    API = apiInput.value.trim().replace(/\/+$/, '');
    sessionStorage.setItem('example.api', API);
  });
  tokenInput.addEventListener('input', () => {
    token = tokenInput.value.trim();
    sessionStorage.setItem('example.token', token);
  });
}

// show prints an answer on the page (the note only logs it to the console).
export function show(result) {
  const out = document.querySelector('#result');
  if (out) out.textContent = JSON.stringify(result, null, 2);
}
