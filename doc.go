// Package vitrine holds the domain of the product-image service: products,
// gallery images, renditions, upload limits, storage keys and the error type
// every other package speaks. It imports only the standard library; the
// adapters (sqldb, blob, vips, jobs, httpapi) all point toward it.
package vitrine
