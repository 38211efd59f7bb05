// The note's "Upload Single Image" code, section 6, with the API's base
// URL in front of the path (see config.js). Everything else is as the
// note writes it.
import { API, token, show } from './config.js';

// Upload product image
async function uploadProductImage(slug, imageFile) {
    const formData = new FormData();
    formData.append('image', imageFile);

    const response = await fetch(`${API}/api/products/${slug}/upload_image/`, {
        method: 'POST',
        headers: {
            'Authorization': `Bearer ${token}`
        },
        body: formData
    });

    return await response.json();
}

// Usage
const fileInput = document.querySelector('#image-input');
fileInput.addEventListener('change', async (e) => {
    const file = e.target.files[0];
    const result = await uploadProductImage(document.querySelector('#slug').value, file);
    console.log(result);
    show(result);
});
