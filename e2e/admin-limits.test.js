// The admin page's upload hints and file pickers follow the limits the
// server is configured with, not the note's defaults.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startVitrine } from './lib/vitrine.js';
import { launch, newPage, assertClean } from './lib/browser.js';

describe('admin page, configured limits', () => {
  let v;
  let browser;

  before(async () => {
    const launching = launch();
    try {
      v = await startVitrine('admin-limits', {
        VITRINE_MAX_UPLOAD_BYTES: String(2 * 1024 * 1024),
        VITRINE_PRODUCT_IMAGE_MIN_SIDE: '300',
      });
      await v.api('POST', '/api/products/', { name: 'Tea towel', slug: 'tea-towel', price: '12.00' });
    } finally {
      browser = await launching;
    }
  });

  after(async () => {
    await browser?.close();
    await v?.stop();
  });

  test('the hints say what this server accepts', async () => {
    const page = await newPage(browser);
    await page.goto(`${v.url}/admin/`);
    await page.getByLabel('API token').fill(v.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.goto(`${v.url}/admin/#/products/tea-towel`);
    await page.getByRole('heading', { level: 1, name: 'Tea towel' }).waitFor();
    await page.getByText('The product’s single image: JPEG, PNG or WebP, at most 2 MB, 300 to 5000 pixels a side.').waitFor();
    await page.getByText('JPEG, PNG or WebP, at most 2 MB each.', { exact: false }).waitFor();
    assert.equal(await page.locator('#gallery-files').getAttribute('accept'), 'image/jpeg,image/png,image/webp');
    assertClean(page);
    await page.context().close();
  });
});
