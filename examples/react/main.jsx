// Mounts the note's component on react.html for the product named in the
// page's slug field.
import React, { useState } from 'react';
import { createRoot } from 'react-dom/client';
import ProductImageUpload from './ProductImageUpload.jsx';

function Page() {
    const [slug, setSlug] = useState('django-book');
    return (
        <>
            <p>
                <label htmlFor="slug">Product slug</label>{' '}
                <input id="slug" value={slug} onChange={(e) => setSlug(e.target.value)} />
            </p>
            <ProductImageUpload productSlug={slug} />
        </>
    );
}

createRoot(document.getElementById('root')).render(<Page />);
