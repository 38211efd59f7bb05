// The admin page's main path, one step per test, in one browser page
// against one real vitrine: sign in, create a product, upload by drop with
// progress (and one bad file), watch thumbnails appear, reorder by mouse
// and by keyboard, set the primary image, edit alt text, delete an image,
// delete the product.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startVitrine } from './lib/vitrine.js';
import { launch, newPage, screenshot, assertClean, waitUntil, quiet } from './lib/browser.js';
import { product, notAnImage } from './lib/images.js';

describe('admin page', () => {
  let v;
  let browser;
  let page;
  const slug = 'ceramic-mug';
  // The gallery's image ids in upload order: red, green, blue.
  let ids = [];

  // The ids of the gallery cards, in the order the page shows them.
  const shownOrder = () => page.$$eval('#gallery .image-card', (els) => els.map((el) => Number(el.dataset.id)));
  const apiOrder = async () => (await v.api('GET', `/api/products/${slug}/images/`)).map((img) => img.id);
  const card = (id) => page.locator(`#gallery .image-card[data-id="${id}"]`);

  before(async () => {
    const launching = launch(); // Chromium starts while vitrine does
    try {
      v = await startVitrine('admin');
    } finally {
      browser = await launching;
    }
    page = await newPage(browser);
  });

  after(async () => {
    await browser?.close();
    await v?.stop();
  });

  test('a wrong token is refused, the right one signs in', async () => {
    const res = await page.goto(`${v.url}/admin/`);
    // Served with a CSP that forbids inline code, and the page has none
    // (newPage also fails the test on any CSP violation).
    const csp = res.headers()['content-security-policy'];
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    await page.getByRole('heading', { name: 'Products' }).waitFor();
    assert.equal(await page.locator('script:not([src]), [style]').count(), 0);
    // Read-only without a token: no way to create.
    assert.equal(await page.getByRole('link', { name: 'New product' }).count(), 0);

    await page.getByLabel('API token').fill('vt_not-a-real-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#signin-error', { hasText: 'That token was not accepted (Invalid token.)' }).waitFor();

    await page.getByLabel('API token').fill(v.token);
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.getByRole('link', { name: 'New product' }).waitFor();
    // The token is in sessionStorage, never in the address.
    assert.equal(await page.evaluate(() => sessionStorage.getItem('vitrine.token')), v.token);
    assert.ok(!page.url().includes(v.token));
    await screenshot(page, 'admin-signed-in');
  });

  test('create a product', async () => {
    await page.getByRole('link', { name: 'New product' }).click();
    await page.getByLabel('Name').fill('Ceramic mug');
    // The slug follows the name.
    assert.equal(await page.getByLabel('Slug').inputValue(), slug);
    await page.getByLabel('Description').fill('Stoneware, 350 ml.');
    await page.getByLabel('Price').fill('12.50');
    await page.getByRole('button', { name: 'Create product' }).click();
    await page.getByRole('heading', { level: 1, name: 'Ceramic mug' }).waitFor();
    assert.equal(new URL(page.url()).hash, `#/products/${slug}`);

    const p = await v.api('GET', `/api/products/${slug}/`);
    assert.deepEqual([p.name, p.description, p.price], ['Ceramic mug', 'Stoneware, 350 ml.', '12.50']);
    await screenshot(page, 'admin-product-created');
  });

  test('drop three images and a bad file: progress, per-file error, the others stored', async () => {
    // Slow the upload link down (Chromium's DevTools throttling) so the
    // progress bars have something to show, and record every value they
    // take.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions',
      { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 256 * 1024 });
    await page.evaluate(() => {
      window.progressSeen = {};
      new MutationObserver((records) => {
        for (const r of records) {
          if (r.target.tagName !== 'PROGRESS') continue;
          const name = r.target.closest('.upload').querySelector('.upload-name').textContent;
          (window.progressSeen[name] ||= []).push(r.target.value);
        }
      }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['value'] });
    });

    const files = [
      { name: 'red.png', data: product(0, { grain: 48 }) }, // about 500 KB: two seconds at 256 KB/s
      { name: 'green.png', data: product(130) },
      { name: 'notes.png', data: notAnImage }, // text named .png
      { name: 'blue.png', data: product(220) },
    ].map((f) => ({ name: f.name, b64: f.data.toString('base64') }));

    // A real drop: a DataTransfer holding File objects, dispatched on the
    // gallery as the browser does when files are dragged from the desktop.
    const dataTransfer = await page.evaluateHandle((list) => {
      const dt = new DataTransfer();
      for (const f of list) {
        const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
        dt.items.add(new File([bytes], f.name, { type: 'image/png' }));
      }
      return dt;
    }, files);
    const gallery = page.locator('#gallery');
    await gallery.dispatchEvent('dragenter', { dataTransfer });
    await gallery.dispatchEvent('dragover', { dataTransfer });
    await page.locator('#gallery.receiving .drop-overlay').waitFor();
    await screenshot(page, 'admin-drop-target');
    await page.locator('#gallery .dropzone').dispatchEvent('drop', { dataTransfer });
    // A picture for the README while red.png is on its way.
    await page.waitForFunction(() => {
      const bar = [...document.querySelectorAll('.upload')].find((r) => r.textContent.includes('red.png'))?.querySelector('progress');
      return bar && bar.value > 0 && bar.value < 100;
    });
    await quiet(page);
    await page.locator('#gallery').evaluate((el) => el.scrollIntoView());
    await screenshot(page, 'admin-uploading', { docs: true });

    // One row per file; the bad one says why in plain words, next to its name.
    const bad = page.locator('.upload.failed', { hasText: 'notes.png' });
    await bad.locator('.upload-status', { hasText: 'Upload a valid image.' }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('.upload[data-state=done]').length === 3);
    for (const name of ['red.png', 'green.png', 'blue.png']) {
      const row = page.locator('.upload', { hasText: name });
      assert.equal(await row.getAttribute('data-state'), 'done');
      assert.equal(await row.locator('progress').evaluate((el) => el.value === el.max), true, `${name} progress full`);
    }
    const seen = await page.evaluate(() => window.progressSeen);
    assert.ok(seen['red.png'].some((x) => x > 0 && x < 100), `red.png progress went through ${seen['red.png']}`);
    await page.locator('#announcer', { hasText: '3 of 4 files uploaded. Not uploaded: notes.png' }).waitFor();
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

    const images = await v.api('GET', `/api/products/${slug}/images/`);
    assert.equal(images.length, 3);
    ids = images.map((img) => img.id);
    assert.deepEqual(await shownOrder(), ids);
  });

  test('thumbnails appear without a reload once rendered', async () => {
    // The gallery polls while an image is pending: each card turns ready
    // and its picture becomes the thumbnail rendition.
    await page.waitForFunction(() => document.querySelectorAll('#gallery .image-card[data-status=ready]').length === 3);
    const images = await v.api('GET', `/api/products/${slug}/images/`);
    for (const img of images) {
      assert.equal(img.status, 'ready');
      const src = await card(img.id).locator('.thumb img').getAttribute('src');
      assert.equal(src, img.thumbnail_url);
      await card(img.id).locator('.badge.status', { hasText: 'Ready' }).waitFor();
      await card(img.id).locator('.badge.warn', { hasText: 'No alt text' }).waitFor();
    }
    // The pictures really load.
    await page.waitForFunction(() => [...document.querySelectorAll('#gallery .thumb img')].every((i) => i.complete && i.naturalWidth > 0));
    await page.locator('#gallery .summary', { hasText: '3 images · 3 without alt text' }).waitFor();
    await screenshot(page, 'admin-gallery-uploaded');
    // The finished upload rows go with one button; the cards stay.
    await page.getByRole('button', { name: 'Clear finished uploads' }).click();
    assert.equal(await page.locator('#gallery .upload').count(), 0);
    assert.equal(await page.locator('#gallery .image-card').count(), 3);
  });

  test('reorder by dragging with the mouse', async () => {
    const [red, green, blue] = ids;
    // Drag blue's picture onto red's: blue goes first. The target is red's
    // picture, not its whole card: the card's centre can be below the
    // fold, and a scroll in the middle of a drag cancels it.
    await card(blue).locator('.thumb').dragTo(card(red).locator('.thumb'));
    const want = [blue, red, green];
    await waitUntil(page, (w) => {
      const got = [...document.querySelectorAll('#gallery .image-card')].map((el) => Number(el.dataset.id));
      return JSON.stringify(got) === JSON.stringify(w);
    }, want);
    await v.until('the API to have the dragged order', async () => JSON.stringify(await apiOrder()) === JSON.stringify(want));
    await page.locator('#announcer', { hasText: 'to position 1 of 3' }).waitFor();
    await screenshot(page.locator('#gallery .images'), 'admin-dragged');
  });

  test('reorder with the keyboard', async () => {
    const [red, green, blue] = ids;
    // Which of blue's buttons has focus, and which are disabled, as the
    // page shows them.
    const blueButtons = (id) => {
      const buttons = [...document.querySelectorAll(`#gallery .image-card[data-id="${id}"] button`)];
      const find = (word) => buttons.find((b) => b.textContent.includes(word));
      const focus = buttons.find((b) => b === document.activeElement);
      return { focused: focus ? focus.textContent : null, earlierDisabled: find('Earlier').disabled, laterDisabled: find('Later').disabled };
    };
    const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
    // Blue is first: move it two places later with its "Later" button,
    // pressing Enter twice; focus stays on the button in between.
    await card(blue).getByRole('button', { name: 'Later' }).focus();
    await page.keyboard.press('Enter');
    await v.until('blue in second place', async () => same(await apiOrder(), [red, blue, green]));
    await v.until('focus to stay on Later', async () => {
      const b = await page.evaluate(blueButtons, blue);
      return b.focused?.includes('Later') && !b.earlierDisabled && !b.laterDisabled;
    });
    await page.keyboard.press('Enter');
    await v.until('blue in last place', async () => same(await apiOrder(), [red, green, blue]));
    // At the end the button is disabled, and focus moved to its twin.
    await v.until('Later disabled and focus on Earlier', async () => {
      const b = await page.evaluate(blueButtons, blue);
      return b.focused?.includes('Earlier') && b.laterDisabled;
    });
    // Space works too: blue one place earlier again.
    await page.keyboard.press('Space');
    const want = [red, blue, green];
    await v.until('blue back in second place', async () => same(await apiOrder(), want));
    await page.waitForFunction((w) => JSON.stringify([...document.querySelectorAll('#gallery .image-card')]
      .map((el) => Number(el.dataset.id))) === JSON.stringify(w), want);
    await screenshot(page.locator('#gallery .images'), 'admin-keyboard-moved');
  });

  test('the order is kept after a reload', async () => {
    await page.reload();
    await page.locator('#gallery .image-card').first().waitFor();
    const [red, green, blue] = ids;
    assert.deepEqual(await shownOrder(), [red, blue, green]);
    assert.deepEqual(await apiOrder(), [red, blue, green]);
    // Signed in still: the token survived the reload.
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await screenshot(page, 'admin-reloaded');
  });

  test('set the primary image', async () => {
    const [, green] = ids;
    await card(green).getByRole('button', { name: 'Make primary' }).click();
    await card(green).locator('.badge.primary', { hasText: 'Primary' }).waitFor();
    const images = await v.api('GET', `/api/products/${slug}/images/`);
    assert.deepEqual(images.filter((img) => img.is_primary).map((img) => img.id), [green]);
    assert.equal(await page.locator('#gallery .badge.primary').count(), 1);
    await screenshot(page.locator('#gallery .images'), 'admin-primary');
  });

  test('edit alt text inline', async () => {
    const [red] = ids;
    const alt = card(red).getByLabel('Alt text');
    await alt.fill('Red mug, side view');
    await alt.press('Enter');
    await card(red).getByText('Alt text saved.').waitFor();
    const img = await v.api('GET', `/api/products/${slug}/images/${red}/`);
    assert.equal(img.alt_text, 'Red mug, side view');
    // The flag went from this card only; the picture's alt follows.
    assert.equal(await card(red).locator('.badge.warn').count(), 0);
    assert.equal(await card(red).locator('.thumb img').getAttribute('alt'), 'Red mug, side view');
    await page.locator('#gallery .summary', { hasText: '3 images · 2 without alt text' }).waitFor();

    const caption = card(red).getByLabel('Caption');
    await caption.fill('Glazed by hand');
    await caption.press('Tab'); // leaving the field saves too
    await card(red).getByText('Caption saved.').waitFor();
    assert.equal((await v.api('GET', `/api/products/${slug}/images/${red}/`)).caption, 'Glazed by hand');

    // The gallery for the README (the upload rows went with the reload).
    await quiet(page);
    await page.locator('#gallery').evaluate((el) => el.scrollIntoView());
    await screenshot(page, 'admin-gallery', { docs: true });
  });

  test('delete an image, after confirming', async () => {
    const [red, green, blue] = ids;
    await card(blue).getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await screenshot(page, 'admin-confirm-delete');
    // Cancel first: nothing happens.
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await apiOrder()).length, 3);
    await card(blue).getByRole('button', { name: 'Delete' }).click();
    await dialog.getByRole('button', { name: 'Delete image' }).click();
    await card(blue).waitFor({ state: 'detached' });
    assert.deepEqual(await apiOrder(), [red, green]);
    assert.deepEqual(await shownOrder(), [red, green]);
  });

  test('delete the product, after confirming', async () => {
    await page.getByRole('button', { name: 'Delete product' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete product' }).click();
    await page.getByRole('heading', { level: 1, name: 'Products' }).waitFor();
    await page.getByText('No products yet.').waitFor();
    const res = await fetch(`${v.url}/api/products/${slug}/`);
    assert.equal(res.status, 404);
    await screenshot(page, 'admin-product-deleted');
    assertClean(page);
  });
});
