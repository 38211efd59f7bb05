// products.js: the product list (search, pages), the product form (create
// and edit), the product's single image and product deletion. The gallery
// of a product is gallery.js.

import { request, upload, uploadMessage, productPath, ApiError } from './api.js';
import { h, announce, confirmAction, formatBytes, limitsText } from './dom.js';
import { showGallery } from './gallery.js';

const PAGE_SIZE = 20;

// --- the list ---

// showProductList renders the searchable, paginated product list. The
// search and page live in the hash (#/?search=mug&page=2) so a reload or a
// shared link shows the same page.
export async function showProductList(ctx, params) {
  const search = params.get('search') || '';
  const page = Math.max(1, parseInt(params.get('page') || '1', 10) || 1);

  const input = h('input', { id: 'search', type: 'search', name: 'search', value: search, autocomplete: 'off' });
  const results = h('div', { class: 'results', 'aria-live': 'polite', 'aria-busy': 'true' });
  const searchForm = h('form', { class: 'search', role: 'search', onsubmit: (e) => {
    e.preventDefault();
    load(input.value.trim(), 1);
  } },
  h('label', { for: 'search' }, 'Search products'),
  input,
  h('button', { type: 'submit' }, 'Search'));

  // Searching as the user types, after a short pause so a word is one
  // request, not one per letter.
  let timer = 0;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => load(input.value.trim(), 1), 300);
  });

  ctx.main.replaceChildren(
    h('div', { class: 'titlebar' },
      h('h1', {}, 'Products'),
      ctx.signedIn ? h('a', { class: 'button', href: '#/new' }, 'New product') : null),
    searchForm,
    results);

  // Requests can finish out of order when the user types fast: only the
  // latest one may fill the list.
  let latest = 0;
  async function load(q, p) {
    const mine = ++latest;
    const hash = listHash(q, p);
    if (location.hash !== hash) history.replaceState(null, '', hash);
    const query = new URLSearchParams({ page: String(p), page_size: String(PAGE_SIZE) });
    if (q) query.set('search', q);
    results.setAttribute('aria-busy', 'true');
    let data;
    try {
      data = await request('GET', `/api/products/?${query}`);
    } catch (err) {
      if (mine !== latest) return;
      // A page past the end (after deletions) is a 404 "Invalid page.":
      // show the first page instead.
      if (err instanceof ApiError && err.status === 404 && p > 1) return load(q, 1);
      results.replaceChildren(h('p', { class: 'error', role: 'alert' }, `Could not load the products: ${err.message}`));
      results.setAttribute('aria-busy', 'false');
      return;
    }
    if (mine !== latest) return;
    results.replaceChildren(...renderResults(ctx, data, q, p));
    results.setAttribute('aria-busy', 'false');
  }

  await load(search, page);
  return () => clearTimeout(timer);
}

function listHash(search, page) {
  const q = new URLSearchParams();
  if (search) q.set('search', search);
  if (page > 1) q.set('page', String(page));
  const s = q.toString();
  return s ? `#/?${s}` : '#/';
}

function renderResults(ctx, data, search, page) {
  const pages = Math.max(1, Math.ceil(data.count / PAGE_SIZE));
  const out = [];
  if (data.count === 0) {
    out.push(h('p', { class: 'empty' }, search
      ? `No product matches “${search}”.`
      : ctx.signedIn ? 'No products yet. Create the first one with “New product”.'
        : ctx.readOnly ? 'No products yet. Your token can only read.'
          : 'No products yet. Sign in with an API token to create one.'));
    return out;
  }
  out.push(h('p', { class: 'count' }, `${data.count} ${data.count === 1 ? 'product' : 'products'}` +
    (search ? ` matching “${search}”` : '')));
  out.push(h('ul', { class: 'product-list' }, data.results.map(productRow)));
  // DRF's pagination says whether there is a next or previous page; the
  // page numbers themselves are kept in our hash.
  if (data.next || data.previous) {
    out.push(h('nav', { class: 'pager', 'aria-label': 'Pages' },
      data.previous ? h('a', { class: 'button secondary', href: listHash(search, page - 1), rel: 'prev' }, 'Previous page') : null,
      h('span', {}, `Page ${page} of ${pages}`),
      data.next ? h('a', { class: 'button secondary', href: listHash(search, page + 1), rel: 'next' }, 'Next page') : null));
  }
  return out;
}

function productRow(p) {
  const thumb = thumbnailOf(p);
  const missingAlt = p.images.filter((img) => !img.alt_text.trim()).length;
  return h('li', {},
    h('a', { href: `#/products/${encodeURIComponent(p.slug)}`, class: 'product-row' },
      thumb ? h('img', { src: thumb, alt: '', loading: 'lazy', width: 64, height: 64 })
        : h('span', { class: 'noimage', 'aria-hidden': 'true' }, 'no image'),
      h('span', { class: 'name' }, p.name),
      h('span', { class: 'slug' }, p.slug),
      h('span', { class: 'price' }, p.price === null ? 'no price' : p.price),
      h('span', { class: 'images' }, `${p.images.length} ${p.images.length === 1 ? 'image' : 'images'}` +
        (missingAlt ? `, ${missingAlt} without alt text` : ''))));
}

// thumbnailOf picks the picture that stands for a product in the list:
// the primary gallery image, else the first ready one, else the single
// image.
function thumbnailOf(p) {
  if (p.primary_image && p.primary_image.thumbnail_url) return p.primary_image.thumbnail_url;
  const ready = p.images.find((img) => img.thumbnail_url);
  if (ready) return ready.thumbnail_url;
  return p.image;
}

// --- one product ---

// showProductNew renders the empty form; on success it opens the new
// product so images can be added next.
export async function showProductNew(ctx) {
  if (!ctx.signedIn) {
    ctx.main.replaceChildren(h('h1', {}, 'New product'),
      h('p', {}, ctx.readOnly
        ? 'Your token can only read. Sign in with a write token to create products.'
        : 'Sign in with an API token (at the top of the page) to create products.'));
    return null;
  }
  const form = productForm(null, async (values) => {
    const p = await request('POST', '/api/products/', values);
    announce(`Created “${p.name}”. You can add its images now.`);
    ctx.navigate(`#/products/${encodeURIComponent(p.slug)}`);
  });
  ctx.main.replaceChildren(
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/' }, 'Products'), ' / New'),
    h('h1', {}, 'New product'),
    form);
  form.querySelector('input').focus();
  return null;
}

// showProduct renders one product: its details, single image, gallery.
export async function showProduct(ctx, slug) {
  let p;
  try {
    p = await request('GET', productPath(slug));
  } catch (err) {
    ctx.main.replaceChildren(
      h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/' }, 'Products')),
      h('h1', {}, err.status === 404 ? 'Product not found' : 'Could not load the product'),
      h('p', { class: 'error', role: 'alert' }, err.status === 404
        ? `There is no product “${slug}”. It may have been deleted or renamed.` : err.message));
    return null;
  }

  const title = h('h1', {}, p.name);
  const crumb = h('span', {}, p.name);
  const details = h('section', { class: 'card details', 'aria-labelledby': 'details-h' },
    h('h2', { id: 'details-h' }, 'Details'),
    ctx.signedIn
      ? productForm(p, async (values) => {
        const saved = await request('PATCH', productPath(p.slug), values);
        const renamed = saved.slug !== p.slug;
        p = saved;
        title.textContent = crumb.textContent = saved.name;
        announce('Saved.');
        // A new slug is a new address: move the hash without reloading.
        if (renamed) history.replaceState(null, '', `#/products/${encodeURIComponent(saved.slug)}`);
        gallery.setSlug(saved.slug);
        single.setSlug(saved.slug);
        return 'Saved.';
      })
      : readOnlyDetails(p, ctx.readOnly));

  const single = singleImage(ctx, p);
  const gallery = showGallery(ctx, p);

  const deleteButton = ctx.signedIn ? h('section', { class: 'card danger-zone', 'aria-labelledby': 'delete-h' },
    h('h2', { id: 'delete-h' }, 'Delete'),
    h('p', {}, 'Deleting a product deletes its images and every stored file of them.'),
    h('p', { class: 'error', role: 'alert', id: 'delete-error' }),
    h('button', { type: 'button', class: 'danger', onclick: async (e) => {
      const box = e.target.parentElement.querySelector('#delete-error');
      if (!await confirmAction(`Delete the product “${p.name}” and all its images? This cannot be undone.`, 'Delete product')) return;
      try {
        await request('DELETE', productPath(p.slug));
      } catch (err) {
        box.textContent = err.message;
        return;
      }
      announce(`Deleted “${p.name}”.`);
      ctx.navigate('#/');
    } }, 'Delete product')) : null;

  ctx.main.replaceChildren(
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/' }, 'Products'), ' / ', crumb),
    title,
    h('div', { class: 'product-top' }, details, single.el),
    gallery.el,
    deleteButton);
  return gallery.stop;
}

function readOnlyDetails(p, readOnlyToken) {
  return h('dl', { class: 'readonly-details' },
    h('dt', {}, 'Slug'), h('dd', {}, p.slug),
    h('dt', {}, 'Price'), h('dd', {}, p.price === null ? 'none' : p.price),
    h('dt', {}, 'Description'), h('dd', {}, p.description || '(none)'),
    h('dt', {}, 'Note'), h('dd', {}, readOnlyToken
      ? 'Your token can only read. Sign in with a write token to edit this product.'
      : 'Sign in to edit this product.'));
}

const FIELDS = [
  { name: 'name', label: 'Name', required: true, maxlength: 200 },
  { name: 'slug', label: 'Slug', required: true, maxlength: 50, pattern: '[-a-zA-Z0-9_]+',
    help: 'Part of the product’s address: letters, digits, - and _.' },
  { name: 'description', label: 'Description', textarea: true },
  { name: 'price', label: 'Price', inputmode: 'decimal', placeholder: '19.99', help: 'Leave empty for no price.' },
];

// productForm builds the create/edit form. submit(values) sends them and
// may throw an ApiError, whose field messages are shown under each field
// and the rest above the button.
function productForm(p, submit) {
  const inputs = {};
  const errors = {};
  const summary = h('p', { class: 'error', role: 'alert' });
  const done = h('span', { class: 'saved', role: 'status' });
  const rows = FIELDS.map((f) => {
    const id = `product-${f.name}`;
    const value = p ? (p[f.name] ?? '') : '';
    const describedBy = [f.help ? `${id}-help` : null, `${id}-error`].filter(Boolean).join(' ');
    const input = f.textarea
      ? h('textarea', { id, name: f.name, rows: 3, 'aria-describedby': describedBy })
      : h('input', { id, name: f.name, type: 'text', required: f.required, maxlength: f.maxlength,
        pattern: f.pattern, inputmode: f.inputmode, placeholder: f.placeholder,
        autocomplete: 'off', spellcheck: f.name === 'slug' ? 'false' : null, 'aria-describedby': describedBy });
    input.value = value;
    inputs[f.name] = input;
    errors[f.name] = h('p', { id: `${id}-error`, class: 'field-error' });
    return h('div', { class: 'field' },
      h('label', { for: id }, f.label, f.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
      input,
      f.help ? h('p', { id: `${id}-help`, class: 'help' }, f.help) : null,
      errors[f.name]);
  });

  // On a new product, the slug follows the name until the user types one.
  if (!p) {
    let slugTouched = false;
    inputs.slug.addEventListener('input', () => { slugTouched = true; });
    inputs.name.addEventListener('input', () => {
      if (!slugTouched) inputs.slug.value = slugify(inputs.name.value);
    });
  }

  const button = h('button', { type: 'submit' }, p ? 'Save changes' : 'Create product');
  const form = h('form', { class: 'product-form', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    summary.textContent = done.textContent = '';
    for (const f of FIELDS) {
      errors[f.name].textContent = '';
      inputs[f.name].removeAttribute('aria-invalid');
    }
    const values = {
      name: inputs.name.value.trim(),
      slug: inputs.slug.value.trim(),
      description: inputs.description.value,
      // An empty price is "no price" (null), not zero.
      price: inputs.price.value.trim() === '' ? null : inputs.price.value.trim(),
    };
    button.disabled = true;
    try {
      const msg = await submit(values);
      if (msg) done.textContent = msg;
    } catch (err) {
      let first = null;
      for (const [field, msgs] of Object.entries(err.fields || {})) {
        if (!errors[field]) continue;
        errors[field].textContent = msgs.join(' ');
        inputs[field].setAttribute('aria-invalid', 'true');
        first = first || inputs[field];
      }
      const other = Object.keys(err.fields || {}).filter((k) => !errors[k]);
      if (!first || other.length) summary.textContent = err.message;
      else summary.textContent = 'Please correct the fields marked below.';
      (first || button).focus();
    } finally {
      button.disabled = false;
    }
  } }, summary, rows, h('div', { class: 'actions' }, button, done));
  return form;
}

function slugify(s) {
  return s.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50);
}

// --- the product's single image ---

// singleImage shows the product's one image (the note's Product.image)
// with upload/replace and remove. This image has no renditions: it is
// shown from its original.
function singleImage(ctx, p) {
  let slug = p.slug;
  const figure = h('div', { class: 'single-figure' });
  const progress = h('progress', { max: 100, value: 0, hidden: true, 'aria-label': 'Upload progress' });
  const message = h('p', { class: 'error', role: 'alert' });
  const input = h('input', { id: 'single-file', type: 'file', accept: ctx.limits.product_image.types.join(','), class: 'visually-hidden' });
  const pickLabel = h('label', { for: 'single-file', class: 'button secondary' });
  const remove = h('button', { type: 'button', class: 'secondary' }, 'Remove image');

  function render(product) {
    if (product.image) {
      figure.replaceChildren(h('img', { src: product.image, alt: `Main image of ${product.name}` }),
        h('p', { class: 'help' }, `${product.image_width} × ${product.image_height} px`));
    } else {
      figure.replaceChildren(h('p', { class: 'noimage' }, 'No main image.'));
    }
    pickLabel.textContent = product.image ? 'Replace image' : 'Upload image';
    remove.hidden = !product.image;
  }

  input.addEventListener('change', async () => {
    const file = input.files[0];
    if (!file) return;
    const fd = new FormData();
    fd.append('image', file);
    message.textContent = '';
    progress.hidden = false;
    progress.value = 0;
    try {
      const product = await upload('POST', productPath(slug, 'upload_image/'), fd,
        (loaded, total) => { progress.value = Math.round(loaded / total * 100); });
      progress.value = 100;
      render(product);
      announce(`Main image uploaded (${file.name}, ${formatBytes(file.size)}).`);
    } catch (err) {
      message.textContent = `${file.name}: ${uploadMessage(err, file)}`;
    } finally {
      progress.hidden = true;
      input.value = '';
    }
  });

  remove.addEventListener('click', async () => {
    if (!await confirmAction('Remove the main image of this product? Its file is deleted.', 'Remove image')) return;
    message.textContent = '';
    try {
      await request('DELETE', productPath(slug, 'delete_image/'));
    } catch (err) {
      message.textContent = err.message;
      return;
    }
    render({ ...p, image: null });
    announce('Main image removed.');
    // The file input is visually hidden, but it takes focus (its label
    // shows the ring); a label itself cannot be focused.
    input.focus();
  });

  render(p);
  const el = h('section', { class: 'card single', 'aria-labelledby': 'single-h' },
    h('h2', { id: 'single-h' }, 'Main image'),
    h('p', { class: 'help' }, `The product’s single image: ${limitsText(ctx.limits.product_image)}. Gallery images are below.`),
    figure,
    ctx.signedIn ? h('div', { class: 'actions' }, input, pickLabel, remove) : null,
    progress,
    message);
  return { el, setSlug: (s) => { slug = s; } };
}
