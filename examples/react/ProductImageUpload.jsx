// The note's React component, section 6, made to run against vitrine:
// the API's base URL goes in front of the path and `token` comes from
// config.js. Marked "added" below: a line of state that says on the page
// how the upload went (the note only logs it to the console).
import React, { useState } from 'react';
import axios from 'axios';
import { API, token } from '../config.js';

function ProductImageUpload({ productSlug }) {
    const [images, setImages] = useState([]);
    const [uploading, setUploading] = useState(false);
    const [message, setMessage] = useState(''); // added

    const handleFileChange = (e) => {
        setImages(Array.from(e.target.files));
    };

    const handleUpload = async () => {
        if (images.length === 0) return;

        const formData = new FormData();
        images.forEach(image => {
            formData.append('images', image);
        });

        setUploading(true);

        try {
            const response = await axios.post(
                `${API}/api/products/${productSlug}/images/bulk_upload/`,
                formData,
                {
                    headers: {
                        'Content-Type': 'multipart/form-data',
                        'Authorization': `Bearer ${token}`
                    }
                }
            );

            console.log('Upload successful:', response.data);
            setMessage(`Uploaded ${response.data.uploaded} images.`); // added
            setImages([]);

        } catch (error) {
            console.error('Upload failed:', error);
            setMessage(`Upload failed: ${error.message}`); // added
        } finally {
            setUploading(false);
        }
    };

    return (
        <div>
            <input
                type="file"
                multiple
                accept="image/*"
                onChange={handleFileChange}
            />
            <button
                onClick={handleUpload}
                disabled={uploading || images.length === 0}
            >
                {uploading ? 'Uploading...' : `Upload ${images.length} images`}
            </button>
            <p role="status">{message}</p>
        </div>
    );
}

export default ProductImageUpload;
