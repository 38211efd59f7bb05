// api.js: every call the admin page makes to vitrine's REST API goes
// through here, so the token handling and the reading of errors live in
// one place.
//
// The page is served by vitrine itself (/admin/), so the API is on the same
// origin and paths are absolute ("/api/..."): no base URL to configure, and
// the CSP's connect-src 'self' allows exactly this.

import { formatBytes } from './dom.js';

const TOKEN_KEY = 'vitrine.token';
const SCOPE_KEY = 'vitrine.scope';

// The token lives in sessionStorage: it survives a reload but not the tab,
// and it is never put in a URL (URLs end up in history, logs and Referer
// headers).
export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

// setToken stores a token with its scope (from GET /api/token/), or
// forgets both.
export function setToken(token, scope = '') {
  if (token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(SCOPE_KEY, scope);
  } else {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(SCOPE_KEY);
  }
}

// readOnlyToken says whether the stored token may only read: the page then
// offers no changes, which the API would refuse with 403.
export function readOnlyToken() {
  return Boolean(getToken()) && sessionStorage.getItem(SCOPE_KEY) === 'read';
}

// canWrite says whether the page should offer changes: a token is stored
// and its scope allows them.
export function canWrite() {
  return Boolean(getToken()) && !readOnlyToken();
}

// ApiError is a refused or failed request. message is plain words for the
// user; fields maps a form field to its messages when the API named fields
// (DRF's {"field": ["message"]}).
export class ApiError extends Error {
  constructor(status, body) {
    super(messageOf(status, body));
    this.status = status;
    this.body = body;
    this.fields = fieldsOf(body);
  }
}

// messageOf turns the API's three error shapes into one sentence:
// {"detail": "..."}, {"error": "..."} and {"field": ["...", ...], ...}.
function messageOf(status, body) {
  if (status === 0) {
    return 'Could not reach the server. Check your connection and try again.';
  }
  if (body && typeof body === 'object') {
    if (typeof body.detail === 'string') return body.detail;
    if (typeof body.error === 'string') return body.error;
    const fields = fieldsOf(body);
    const parts = Object.entries(fields).map(([field, msgs]) =>
      field === 'non_field_errors' || field === 'image' ? msgs.join(' ') : `${label(field)}: ${msgs.join(' ')}`);
    if (parts.length) return parts.join(' ');
  }
  if (status === 401) return 'Sign in with an API token to make changes.';
  if (status >= 500) return `The server failed (HTTP ${status}). Try again in a moment.`;
  return `The request was refused (HTTP ${status}).`;
}

function fieldsOf(body) {
  const out = {};
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    for (const [k, v] of Object.entries(body)) {
      if (Array.isArray(v) && v.every((m) => typeof m === 'string')) out[k] = v;
    }
  }
  return out;
}

// label makes an API field name readable: "alt_text" -> "Alt text".
function label(field) {
  const s = field.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function authHeaders() {
  const token = getToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

// request sends one API call and returns the decoded JSON (null for 204).
// body may be a plain object (sent as JSON) or FormData. Any status other
// than 2xx throws an ApiError. token overrides the stored one (sign-in
// checks a token before storing it).
export async function request(method, path, body, token) {
  const headers = token === undefined ? authHeaders() : { Authorization: `Bearer ${token}` };
  const init = { method, headers };
  if (body instanceof FormData) {
    init.body = body; // the browser sets the multipart boundary itself
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, null);
  }
  const data = await readJSON(res);
  if (res.status === 401 && token === undefined && getToken()) {
    // The stored token was revoked (or the database was reset): forget it.
    // Reads work without a token, so a read is simply tried again.
    unauthorized();
    if (method === 'GET') return request(method, path, body);
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

// unauthorized tells the page (app.js) that the stored token was refused;
// app.js forgets it and asks the user to sign in again.
function unauthorized() {
  window.dispatchEvent(new Event('vitrine:unauthorized'));
}

async function readJSON(res) {
  if (res.status === 204) return null;
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text.slice(0, 200) };
  }
}

// upload POSTs a FormData with XMLHttpRequest rather than fetch, because
// only XHR reports upload progress (fetch has no upload progress event).
// onProgress(loaded, total) is called as the bytes leave the browser.
export function upload(method, path, formData, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, path);
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded, e.total);
    };
    xhr.onload = () => {
      let data = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        data = { detail: xhr.responseText.slice(0, 200) };
      }
      if (xhr.status === 401) unauthorized();
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, data));
    };
    xhr.onerror = () => reject(new ApiError(0, null));
    xhr.send(formData);
  });
}

// uploadMessage says in plain words why file was not uploaded. A request
// far over the server's size limit is refused before it is read (413, the
// limit given in bytes): the user is told the file's size instead.
export function uploadMessage(err, file) {
  if (err.status === 413) return `This file is too large to upload (${formatBytes(file.size)}).`;
  return err.message;
}

// productPath builds /api/products/{slug}/... with the slug escaped, so a slug
// can never change which route is called.
export function productPath(slug, rest = '') {
  return `/api/products/${encodeURIComponent(slug)}/${rest}`;
}
