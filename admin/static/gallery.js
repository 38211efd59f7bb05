// gallery.js: a product's gallery. Upload several files (drop or pick),
// each with its own progress bar; watch them render; reorder by dragging
// or with the Move buttons; set the primary image; edit alt text and
// captions; delete.
//
// The gallery keeps the API's list of images and one card element per
// image. Every change (an upload answer, a poll, a reorder answer) goes
// through reconcile(), which updates the cards in place rather than
// rebuilding them, so focus and half-typed alt text survive a poll.

import { request, upload, uploadMessage, productPath } from './api.js';
import { h, announce, confirmAction, formatBytes, limitsText } from './dom.js';

// How often to ask for the gallery while images are rendering. A phone
// photo renders in well under a second, so the wait is short.
const POLL_MS = 700;
// Files uploaded at the same time. Two keeps each progress bar moving
// visibly instead of all crawling together, and is gentle on the server.
const PARALLEL_UPLOADS = 2;
// The MIME type of an image being dragged inside the gallery, so a reorder
// drag is never mistaken for files dropped from the desktop.
const DRAG_TYPE = 'application/x-vitrine-image';

// showGallery builds the gallery of product p. It returns the section
// element, stop() to end polling when the view goes away, and setSlug()
// for when the product is renamed.
export function showGallery(ctx, p) {
  const g = new Gallery(ctx.signedIn, ctx.limits.gallery, p.slug, p.images);
  return { el: g.el, stop: () => g.stop(), setSlug: (s) => { g.slug = s; } };
}

class Gallery {
  constructor(canEdit, limits, slug, images) {
    this.canEdit = canEdit;
    this.limits = limits;
    this.slug = slug;
    this.images = images;
    this.cards = new Map(); // image id -> Card
    this.previews = new Map(); // image id -> blob: URL of the file just uploaded
    this.version = 0; // bumped on every local change, so a stale poll is dropped
    this.pollTimer = 0;
    this.uploading = 0;
    this.stopped = false;
    this.build();
    this.reconcile(images);
  }

  build() {
    this.summary = h('p', { class: 'summary' });
    this.list = h('ol', { class: 'images', 'aria-labelledby': 'gallery-h' });
    this.error = h('p', { class: 'error', role: 'alert' });
    this.uploads = h('ul', { class: 'uploads', 'aria-label': 'Uploads' });
    this.clearUploads = h('button', { type: 'button', class: 'secondary small', hidden: true, onclick: () => {
      for (const li of [...this.uploads.children]) if (li.dataset.state !== 'uploading') li.remove();
      this.clearUploads.hidden = this.uploads.children.length === 0;
    } }, 'Clear finished uploads');

    let picker = null;
    if (this.canEdit) {
      const input = h('input', { id: 'gallery-files', type: 'file', multiple: true,
        accept: this.limits.types.join(','), class: 'visually-hidden',
        'aria-describedby': 'gallery-files-help' });
      input.addEventListener('change', () => {
        this.addFiles([...input.files]);
        input.value = ''; // so picking the same file again fires change again
      });
      picker = h('div', { class: 'dropzone' },
        h('p', {}, 'Drop images anywhere on the gallery, or'),
        input,
        h('label', { for: 'gallery-files', class: 'button' }, 'Choose images'),
        h('p', { id: 'gallery-files-help', class: 'help' },
          `${limitsText(this.limits)} each. Each file uploads on its own, with its own progress bar.`));
    }

    this.el = h('section', { id: 'gallery', class: 'card gallery', 'aria-labelledby': 'gallery-h' },
      h('h2', { id: 'gallery-h' }, 'Gallery'),
      this.summary,
      picker,
      this.uploads,
      this.clearUploads,
      this.canEdit ? h('p', { class: 'help', id: 'reorder-help' },
        'Drag an image to move it, or use its Earlier and Later buttons. The first image is shown first.') : null,
      this.error,
      this.list,
      h('div', { class: 'drop-overlay', 'aria-hidden': 'true' }, 'Drop the images to upload them'));

    if (this.canEdit) this.listenForFileDrops();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.pollTimer);
    window.removeEventListener('dragover', preventFileDrop);
    window.removeEventListener('drop', preventFileDrop);
    for (const url of this.previews.values()) URL.revokeObjectURL(url);
  }

  // --- files dropped or picked ---

  listenForFileDrops() {
    // A file dropped just outside the gallery would make the browser open
    // it and leave the page: refuse such drops everywhere else.
    window.addEventListener('dragover', preventFileDrop);
    window.addEventListener('drop', preventFileDrop);
    let depth = 0; // dragenter/dragleave fire for every child crossed
    const isFiles = (e) => e.dataTransfer && [...e.dataTransfer.types].includes('Files');
    this.el.addEventListener('dragenter', (e) => {
      if (!isFiles(e)) return;
      depth++;
      this.el.classList.add('receiving');
    });
    this.el.addEventListener('dragleave', (e) => {
      if (!isFiles(e)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) this.el.classList.remove('receiving');
    });
    this.el.addEventListener('dragover', (e) => {
      if (!isFiles(e)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    });
    this.el.addEventListener('drop', (e) => {
      if (!isFiles(e)) return;
      e.preventDefault();
      e.stopPropagation();
      depth = 0;
      this.el.classList.remove('receiving');
      this.addFiles([...e.dataTransfer.files]);
    });
  }

  // addFiles uploads each file with its own POST .../images/, so each has
  // its own progress and its own answer (bulk_upload would give one
  // progress for all and refuse more than 10).
  addFiles(files) {
    if (!files.length) return;
    this.error.textContent = '';
    // A POST without "order" puts the image at order 0, before the
    // reordered ones (the note's model default). Giving each file the next
    // order keeps uploads at the end, in the order they were chosen, even
    // though two upload at a time.
    let order = this.nextOrder();
    const jobs = files.map((file) => ({ file, order: order++, row: this.uploadRow(file) }));
    this.reservedOrder = order;
    this.clearUploads.hidden = false;
    const results = [];
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const job = jobs[next++];
        results.push(await this.uploadOne(job));
      }
    };
    const workers = Array.from({ length: Math.min(PARALLEL_UPLOADS, jobs.length) }, worker);
    Promise.all(workers).then(() => {
      const failed = results.filter((r) => !r.ok);
      const ok = results.length - failed.length;
      let msg = `${ok} of ${results.length} ${results.length === 1 ? 'file' : 'files'} uploaded.`;
      if (failed.length) msg += ` Not uploaded: ${failed.map((r) => `${r.name} (${r.message})`).join('; ')}`;
      announce(msg);
    });
  }

  nextOrder() {
    const max = this.images.reduce((m, img) => Math.max(m, img.order), -1);
    return Math.max(max + 1, this.reservedOrder || 0);
  }

  uploadRow(file) {
    const progress = h('progress', { max: 100, value: 0 });
    const status = h('span', { class: 'upload-status' }, 'Waiting…');
    const name = h('span', { class: 'upload-name' }, file.name);
    const row = h('li', { class: 'upload', 'data-state': 'waiting' },
      name, h('span', { class: 'upload-size' }, formatBytes(file.size)), progress, status);
    progress.setAttribute('aria-label', `Upload of ${file.name}`);
    this.uploads.append(row);
    return { row, progress, status };
  }

  async uploadOne({ file, order, row }) {
    const fd = new FormData();
    fd.append('image', file);
    fd.append('order', String(order));
    row.row.dataset.state = 'uploading';
    row.status.textContent = 'Uploading…';
    this.uploading++;
    try {
      const img = await upload('POST', productPath(this.slug, 'images/'), fd, (loaded, total) => {
        row.progress.value = Math.round(loaded / total * 100);
      });
      row.progress.value = 100;
      row.row.dataset.state = 'done';
      row.status.textContent = 'Uploaded';
      // Until the thumbnail exists, show the picture from the user's own
      // file: it is already in the browser.
      this.previews.set(img.id, URL.createObjectURL(file));
      this.version++;
      this.reconcile([...this.images.filter((i) => i.id !== img.id), img].sort(byOrder));
      return { ok: true, name: file.name };
    } catch (err) {
      row.row.dataset.state = 'failed';
      row.row.classList.add('failed');
      const message = uploadMessage(err, file);
      row.status.textContent = message;
      row.status.setAttribute('role', 'alert');
      return { ok: false, name: file.name, message };
    } finally {
      this.uploading--;
    }
  }

  // --- keeping the cards in step with the API ---

  reconcile(images) {
    this.images = images;
    const ids = new Set(images.map((img) => img.id));
    for (const [id, card] of this.cards) {
      if (!ids.has(id)) {
        card.el.remove();
        this.cards.delete(id);
        this.dropPreview(id);
      }
    }
    // Moving a focused element out of the DOM blurs it: remember the focus
    // and give it back after the cards are in their new order.
    const focused = document.activeElement;
    images.forEach((img, i) => {
      let card = this.cards.get(img.id);
      if (!card) {
        card = new Card(this, img);
        this.cards.set(img.id, card);
      }
      if (img.status === 'ready') this.dropPreview(img.id);
      card.update(img, i, images.length, this.previews.get(img.id));
      if (this.list.children[i] !== card.el) this.list.insertBefore(card.el, this.list.children[i] || null);
    });
    if (focused && focused !== document.activeElement && focused.isConnected) focused.focus();

    const missing = images.filter((img) => !img.alt_text.trim()).length;
    const pending = images.filter((img) => img.status === 'pending').length;
    const failed = images.filter((img) => img.status === 'failed').length;
    const parts = [`${images.length} ${images.length === 1 ? 'image' : 'images'}`];
    if (pending) parts.push(`${pending} processing`);
    if (failed) parts.push(`${failed} failed`);
    if (missing) parts.push(`${missing} without alt text`);
    this.summary.textContent = images.length ? parts.join(' · ') : 'No gallery images yet.';
    this.summary.classList.toggle('warn', missing > 0);
    this.schedulePoll();
  }

  dropPreview(id) {
    const url = this.previews.get(id);
    if (url) {
      URL.revokeObjectURL(url);
      this.previews.delete(id);
    }
  }

  // schedulePoll asks for the gallery again while an image is pending, so
  // thumbnails appear without a reload, and stops once all are done.
  schedulePoll() {
    clearTimeout(this.pollTimer);
    if (this.stopped || !this.images.some((img) => img.status === 'pending')) return;
    this.pollTimer = setTimeout(() => this.poll(), POLL_MS);
  }

  async poll() {
    const version = this.version;
    let images;
    try {
      images = await request('GET', productPath(this.slug, 'images/'));
    } catch (err) {
      this.error.textContent = `Could not refresh the gallery: ${err.message}`;
      this.pollTimer = setTimeout(() => this.poll(), POLL_MS * 3);
      return;
    }
    if (this.stopped) return;
    // A reorder or upload answered while this request was out: its answer
    // is newer than ours.
    if (version !== this.version) {
      this.schedulePoll();
      return;
    }
    this.error.textContent = '';
    this.reconcile(images);
  }

  async refresh() {
    this.version++;
    this.reconcile(await request('GET', productPath(this.slug, 'images/')));
  }

  // --- actions on one image ---

  // move puts image id at index to and saves the whole order with
  // POST .../images/reorder/. The cards move at once; if the API refuses,
  // they go back.
  async move(id, to) {
    const from = this.images.findIndex((img) => img.id === id);
    if (from < 0 || to < 0 || to >= this.images.length || from === to) return false;
    const before = this.images;
    const next = [...before];
    const [moved] = next.splice(from, 1);
    next.splice(to, 0, moved);
    this.version++;
    this.reconcile(next);
    const version = this.version;
    try {
      const saved = await request('POST', productPath(this.slug, 'images/reorder/'), { order: next.map((img) => img.id) });
      if (version === this.version) this.reconcile(saved);
    } catch (err) {
      this.error.textContent = `The new order was not saved: ${err.message}`;
      this.version++;
      this.reconcile(before);
      return false;
    }
    announce(`Moved ${describe(moved)} to position ${to + 1} of ${next.length}.`);
    return true;
  }

  async setPrimary(img) {
    try {
      await request('POST', productPath(this.slug, `images/${img.id}/set_primary/`));
      // Another image lost the flag: the list says which.
      await this.refresh();
    } catch (err) {
      this.error.textContent = err.message;
      return;
    }
    announce(`${capitalize(describe(img))} is now the primary image.`);
  }

  async remove(img) {
    const index = this.images.findIndex((i) => i.id === img.id);
    if (!await confirmAction(`Delete ${describe(img)}? Its file and thumbnails are deleted. This cannot be undone.`, 'Delete image')) return;
    try {
      await request('DELETE', productPath(this.slug, `images/${img.id}/`));
    } catch (err) {
      this.error.textContent = err.message;
      return;
    }
    this.version++;
    this.reconcile(this.images.filter((i) => i.id !== img.id));
    announce(`Deleted ${describe(img)}.`);
    // Keep the keyboard user near where they were.
    const neighbour = this.images[Math.min(index, this.images.length - 1)];
    const target = neighbour ? this.cards.get(neighbour.id).focusTarget() : this.el.querySelector('#gallery-files');
    if (target) target.focus();
  }

  // saveText PATCHes alt_text or caption and returns the saved image.
  async saveText(img, field, value) {
    const saved = await request('PATCH', productPath(this.slug, `images/${img.id}/`), { [field]: value });
    this.version++;
    this.reconcile(this.images.map((i) => (i.id === saved.id ? saved : i)));
    return saved;
  }
}

// Card is one image in the gallery list.
class Card {
  constructor(gallery, img) {
    this.g = gallery;
    this.img = img;
    const id = img.id;
    this.thumb = h('div', { class: 'thumb' });
    this.position = h('p', { class: 'position', id: `img-${id}-pos` });
    this.badges = h('p', { class: 'badges' });
    this.reason = h('p', { class: 'reason' });
    this.fieldError = h('p', { class: 'field-error', role: 'alert' });
    this.savedNote = h('span', { class: 'saved', role: 'status' });

    if (!gallery.canEdit) {
      this.text = h('p', { class: 'alt-readonly' });
      this.el = h('li', { class: 'image-card', 'data-id': id },
        this.thumb, h('div', { class: 'meta' }, this.position, this.badges, this.reason, this.text));
      return;
    }

    // Alt text and caption are saved when the field is left or Enter is
    // pressed (the browser's "change" event), one PATCH per change.
    this.alt = h('input', { id: `img-${id}-alt`, type: 'text', maxlength: 200, autocomplete: 'off',
      'aria-describedby': `img-${id}-pos` });
    this.caption = h('input', { id: `img-${id}-caption`, type: 'text', maxlength: 200, autocomplete: 'off',
      'aria-describedby': `img-${id}-pos` });
    for (const [input, field] of [[this.alt, 'alt_text'], [this.caption, 'caption']]) {
      input.addEventListener('change', () => this.save(field, input));
      input.addEventListener('keydown', (e) => {
        if (e.key === 'Escape') { input.value = this.img[field]; }
      });
    }
    const fields = h('form', { class: 'texts', onsubmit: (e) => { e.preventDefault(); } },
      h('label', { for: this.alt.id }, 'Alt text'), this.alt,
      h('label', { for: this.caption.id }, 'Caption'), this.caption);

    this.earlier = h('button', { type: 'button', class: 'secondary small', 'aria-describedby': `img-${id}-pos`,
      onclick: () => this.moveBy(-1, this.earlier) }, h('span', { 'aria-hidden': 'true' }, '←'), 'Earlier');
    this.later = h('button', { type: 'button', class: 'secondary small', 'aria-describedby': `img-${id}-pos`,
      onclick: () => this.moveBy(1, this.later) }, 'Later', h('span', { 'aria-hidden': 'true' }, '→'));
    this.primary = h('button', { type: 'button', class: 'secondary small', 'aria-describedby': `img-${id}-pos`,
      onclick: () => this.g.setPrimary(this.img) }, 'Make primary');
    this.del = h('button', { type: 'button', class: 'danger small', 'aria-describedby': `img-${id}-pos`,
      onclick: () => this.g.remove(this.img) }, 'Delete');

    // Dragging by the picture reorders. The <img> inside is not draggable
    // on its own, so the browser drags the card, not an image file.
    this.thumb.draggable = true;
    this.thumb.title = 'Drag to move';
    this.thumb.addEventListener('dragstart', (e) => {
      e.dataTransfer.setData(DRAG_TYPE, String(this.img.id));
      e.dataTransfer.effectAllowed = 'move';
      e.dataTransfer.setDragImage(this.thumb, 20, 20);
      this.el.classList.add('dragging');
    });
    this.thumb.addEventListener('dragend', () => this.el.classList.remove('dragging'));

    this.el = h('li', { class: 'image-card', 'data-id': id },
      this.thumb,
      h('div', { class: 'meta' }, this.position, this.badges, this.reason, fields, this.savedNote, this.fieldError,
        h('div', { class: 'card-actions' }, this.earlier, this.later, this.primary, this.del)));

    // Every card is a drop target for a card being dragged.
    this.el.addEventListener('dragover', (e) => {
      if (![...e.dataTransfer.types].includes(DRAG_TYPE)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'move';
      this.el.classList.add('drop-target');
    });
    this.el.addEventListener('dragleave', () => this.el.classList.remove('drop-target'));
    this.el.addEventListener('drop', (e) => {
      const dragged = e.dataTransfer.getData(DRAG_TYPE);
      this.el.classList.remove('drop-target');
      if (!dragged) return;
      e.preventDefault();
      const to = this.g.images.findIndex((i) => i.id === this.img.id);
      this.g.move(Number(dragged), to);
    });
  }

  update(img, index, count, preview) {
    this.img = img;
    this.el.dataset.status = img.status;
    this.el.classList.toggle('is-primary', img.is_primary);
    this.el.classList.toggle('no-alt', !img.alt_text.trim());
    this.position.textContent = `Image ${index + 1} of ${count}`;

    this.updateThumb(img, preview);

    const badges = [];
    if (img.is_primary) badges.push(h('span', { class: 'badge primary' }, 'Primary'));
    badges.push(h('span', { class: `badge status ${img.status}` },
      { pending: 'Processing…', ready: 'Ready', failed: 'Failed' }[img.status] || img.status));
    if (!img.alt_text.trim()) badges.push(h('span', { class: 'badge warn' }, 'No alt text'));
    this.badges.replaceChildren(...badges);
    this.reason.textContent = img.status === 'failed' ? `Could not be processed: ${img.status_reason || 'unknown reason'}` : '';
    this.reason.hidden = img.status !== 'failed';

    if (!this.g.canEdit) {
      this.text.textContent = [img.alt_text ? `Alt text: ${img.alt_text}` : 'No alt text',
        img.caption ? `Caption: ${img.caption}` : ''].filter(Boolean).join(' · ');
      return;
    }
    syncField(this.alt, img.alt_text);
    syncField(this.caption, img.caption);
    this.earlier.disabled = index === 0;
    this.later.disabled = index === count - 1;
    this.primary.hidden = img.is_primary;
  }

  updateThumb(img, preview) {
    const src = img.thumbnail_url || preview || null;
    // Until the thumbnail exists, the dominant colour paints the box (set
    // through the CSSOM, which the page's CSP allows, unlike a style
    // attribute).
    this.thumb.style.backgroundColor = img.thumbnail_url ? '' : img.dominant_color || '';
    let pic = this.thumb.querySelector('img');
    if (!src) {
      if (pic) pic.remove();
      let text = this.thumb.querySelector('.thumb-text');
      if (!text) {
        text = h('span', { class: 'thumb-text' });
        this.thumb.append(text);
      }
      // A pending image may fail: the words follow the status.
      text.textContent = img.status === 'failed' ? 'No thumbnail' : 'Processing…';
      return;
    }
    this.thumb.querySelector('.thumb-text')?.remove();
    if (!pic) {
      pic = h('img', { draggable: 'false', decoding: 'async' });
      this.thumb.prepend(pic);
    }
    if (pic.getAttribute('src') !== src) pic.src = src;
    pic.alt = img.alt_text;
    pic.classList.toggle('preview', !img.thumbnail_url);
  }

  focusTarget() {
    return this.alt || this.el;
  }

  async moveBy(delta, button) {
    const index = this.g.images.findIndex((i) => i.id === this.img.id);
    await this.g.move(this.img.id, index + delta);
    // Stay on the button pressed, or on its twin once the card reached an
    // end and this button is disabled.
    const target = !button.disabled ? button : (button === this.earlier ? this.later : this.earlier);
    target.focus();
  }

  async save(field, input) {
    const value = input.value.trim();
    if (value === this.img[field]) return;
    this.fieldError.textContent = '';
    this.savedNote.textContent = 'Saving…';
    try {
      const saved = await this.g.saveText(this.img, field, value);
      // The field now shows what is stored (trimmed), and later polls may
      // update it again.
      input.value = input.dataset.synced = saved[field];
      this.savedNote.textContent = field === 'alt_text' ? 'Alt text saved.' : 'Caption saved.';
      input.removeAttribute('aria-invalid');
    } catch (err) {
      this.savedNote.textContent = '';
      this.fieldError.textContent = err.message;
      input.setAttribute('aria-invalid', 'true');
    }
  }
}

// syncField shows the API's value in a text field unless the user has
// changed the field since it was last filled: a poll must not eat what
// they are typing.
function syncField(input, value) {
  if (input.dataset.synced === undefined || input.value === input.dataset.synced) {
    input.value = value;
    input.dataset.synced = value;
  }
}

function byOrder(a, b) {
  return a.order - b.order || a.uploaded_at.localeCompare(b.uploaded_at) || a.id - b.id;
}

function preventFileDrop(e) {
  if (e.dataTransfer && [...e.dataTransfer.types].includes('Files')) e.preventDefault();
}

// describe names an image in messages: by its alt text when it has one.
function describe(img) {
  return img.alt_text ? `the image “${img.alt_text}”` : 'the image';
}

function capitalize(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
