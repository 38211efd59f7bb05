// The design note's frontend code (examples/) in a real browser, served
// from an origin other than vitrine's, as a shop's pages would be: vitrine
// lists that origin in VITRINE_CORS_ORIGINS, and the uploads must work.
// A page from an origin not listed must be refused by the browser.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startVitrine, root } from './lib/vitrine.js';
import { launch, newPage, screenshot, assertClean } from './lib/browser.js';
import { serveFolder } from './lib/static.js';
import { product } from './lib/images.js';

const examples = path.join(root, 'examples');

describe('the note\'s frontend code, from another origin', () => {
  let v;
  let browser;
  let site; // the examples, on an origin vitrine allows
  let stranger; // the same pages, on an origin vitrine does not list
  const slug = 'django-book';

  // openExample loads an example page and fills in vitrine's URL and token.
  async function openExample(origin, file) {
    const page = await newPage(browser);
    await page.goto(`${origin}/${file}`);
    await page.getByLabel('API base URL').fill(v.url);
    await page.getByLabel('Token').fill(v.token);
    return page;
  }

  const png = (name, hue) => ({ name, mimeType: 'image/png', buffer: product(hue) });

  before(async () => {
    if (!fs.existsSync(path.join(examples, 'dist', 'react.js'))) {
      throw new Error('examples/dist/react.js is missing: run `npm ci && npm run build` in examples/ (make test-e2e does)');
    }
    site = await serveFolder(examples);
    stranger = await serveFolder(examples);
    const launching = launch(); // Chromium starts while vitrine does
    try {
      v = await startVitrine('examples', { VITRINE_CORS_ORIGINS: site.url });
    } finally {
      browser = await launching;
    }
    await v.api('POST', '/api/products/', { name: 'Django book', slug, description: 'A book', price: '19.99' });
  });

  after(async () => {
    await browser?.close();
    await v?.stop();
    await site?.close();
    await stranger?.close();
  });

  test('uploadProductImage (fetch) sets the product\'s image', async () => {
    const page = await openExample(site.url, 'upload-image.html');
    await page.setInputFiles('#image-input', png('cover.png', 30));
    await page.locator('#result', { hasText: '"image_url": "http' }).waitFor();
    const p = await v.api('GET', `/api/products/${slug}/`);
    assert.ok(p.image, 'the product has an image');
    assert.equal(p.image_width, 640);
    const shown = JSON.parse(await page.locator('#result').textContent());
    assert.equal(shown.image, p.image);
    await screenshot(page, 'example-upload-image');
    assertClean(page);
    await page.context().close();
  });

  test('bulkUploadImages (fetch) adds gallery images', async () => {
    const page = await openExample(site.url, 'bulk-upload.html');
    await page.setInputFiles('#multi-image-input', [png('front.png', 200), png('back.png', 260), png('spine.png', 320)]);
    await page.locator('#result', { hasText: '"uploaded": 3' }).waitFor();
    const images = await v.api('GET', `/api/products/${slug}/images/`);
    assert.equal(images.length, 3);
    await screenshot(page, 'example-bulk-upload');
    assertClean(page);
    await page.context().close();
  });

  test('the React ProductImageUpload component (axios) uploads', async () => {
    const page = await openExample(site.url, 'react.html');
    const logged = [];
    page.on('console', (msg) => logged.push(msg.text()));
    const button = page.getByRole('button', { name: 'Upload 0 images' });
    await button.waitFor();
    assert.equal(await button.isDisabled(), true);
    await page.locator('#root input[type=file]').setInputFiles([png('left.png', 90), png('right.png', 150)]);
    await page.getByRole('button', { name: 'Upload 2 images' }).click();
    await page.getByRole('status').filter({ hasText: 'Uploaded 2 images.' }).waitFor();
    assert.ok(logged.some((l) => l.startsWith('Upload successful:')), `console: ${logged}`);
    // The component empties its selection after a success, as the note's does.
    await page.getByRole('button', { name: 'Upload 0 images' }).waitFor();
    const images = await v.api('GET', `/api/products/${slug}/images/`);
    assert.equal(images.length, 5);
    await screenshot(page, 'example-react');
    assertClean(page);
    await page.context().close();
  });

  test('a page from an origin vitrine does not list is refused by the browser', async () => {
    const page = await openExample(stranger.url, 'bulk-upload.html');
    const cors = page.waitForEvent('console', (msg) => msg.type() === 'error' && /blocked by CORS policy/.test(msg.text()));
    await page.setInputFiles('#multi-image-input', [png('sneaky.png', 10)]);
    await cors;
    // vitrine did not allow the preflight, so no upload reached it.
    const images = await v.api('GET', `/api/products/${slug}/images/`);
    assert.equal(images.length, 5);
    await screenshot(page, 'example-refused');
    await page.context().close();
  });
});
