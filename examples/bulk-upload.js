// The note's "Upload Multiple Images" code, section 6, with the API's base
// URL in front of the path (see config.js). Everything else is as the
// note writes it.
import { API, token, show } from './config.js';

// Bulk upload
async function bulkUploadImages(slug, imageFiles) {
    const formData = new FormData();

    // Append multiple files
    imageFiles.forEach((file) => {
        formData.append('images', file);
    });

    const response = await fetch(`${API}/api/products/${slug}/images/bulk_upload/`, {
        method: 'POST',
        headers: {
            'Authorization': `Bearer ${token}`
        },
        body: formData
    });

    return await response.json();
}

// Usage
const multiFileInput = document.querySelector('#multi-image-input');
multiFileInput.addEventListener('change', async (e) => {
    const files = Array.from(e.target.files);
    const result = await bulkUploadImages(document.querySelector('#slug').value, files);
    console.log(result);
    show(result);
});
