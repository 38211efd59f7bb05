package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/vitrine/vitrine"
)

const productCols = `p.id, p.name, p.slug, p.description, p.price_cents,
	p.image_key, p.image_width, p.image_height, p.created_at, p.updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanProduct(row scanner) (*vitrine.Product, error) {
	var (
		p     vitrine.Product
		price sql.NullInt64
		key   sql.NullString
		w, h  sql.NullInt64
	)
	if err := row.Scan(&p.ID, &p.Name, &p.Slug, &p.Description, &price, &key, &w, &h, &p.CreatedAt, &p.UpdatedAt); err != nil {
		return nil, err
	}
	if price.Valid {
		v := vitrine.Price(price.Int64)
		p.Price = &v
	}
	p.ImageKey, p.ImageWidth, p.ImageHeight = key.String, int(w.Int64), int(h.Int64)
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return &p, nil
}

func nullPrice(p *vitrine.Price) sql.NullInt64 {
	if p == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: int64(*p), Valid: true}
}

func slugTaken(err error) error {
	return &vitrine.Error{
		Kind:   vitrine.Conflict,
		Fields: map[string][]string{"slug": {"product with this slug already exists."}},
		Err:    err,
	}
}

// CreateProduct inserts p (with its single image, if p.ImageKey is set) and
// fills in its ID and timestamps. A taken slug is a Conflict on "slug".
func (d *DB) CreateProduct(ctx context.Context, p *vitrine.Product) error {
	now := d.now()
	var key sql.NullString
	var w, h sql.NullInt64
	if p.ImageKey != "" {
		key = sql.NullString{String: p.ImageKey, Valid: true}
		w = sql.NullInt64{Int64: int64(p.ImageWidth), Valid: true}
		h = sql.NullInt64{Int64: int64(p.ImageHeight), Valid: true}
	}
	err := d.pool.Write.QueryRowContext(ctx, d.q(`INSERT INTO products
		(name, slug, description, price_cents, image_key, image_width, image_height, search_text, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		p.Name, string(p.Slug), p.Description, nullPrice(p.Price), key, w, h, productSearchText(p), now, now).Scan(&p.ID)
	if isUnique(err, "slug") {
		return slugTaken(err)
	}
	if err != nil {
		return fmt.Errorf("create product %s: %w", p.Slug, err)
	}
	p.CreatedAt, p.UpdatedAt = now, now
	return nil
}

// ProductID returns the id of the product with this slug, or NotFound.
func (d *DB) ProductID(ctx context.Context, slug vitrine.Slug) (int64, error) {
	var id int64
	err := d.pool.Read.QueryRowContext(ctx, d.q(`SELECT id FROM products WHERE slug = ?`), string(slug)).Scan(&id)
	if err != nil {
		return 0, notFound(err, "product "+string(slug))
	}
	return id, nil
}

// Product returns the product with this slug and its gallery, or NotFound.
func (d *DB) Product(ctx context.Context, slug vitrine.Slug) (*vitrine.Product, error) {
	return d.productTx(ctx, d.pool.Read, slug, "")
}

func (d *DB) productTx(ctx context.Context, q querier, slug vitrine.Slug, lock string) (*vitrine.Product, error) {
	p, err := scanProduct(q.QueryRowContext(ctx, d.q(`SELECT `+productCols+` FROM products p WHERE p.slug = ?`+lock), string(slug)))
	if err != nil {
		return nil, notFound(err, "product "+string(slug))
	}
	if err := d.attachImages(ctx, q, []*vitrine.Product{p}); err != nil {
		return nil, err
	}
	return p, nil
}

// productOrderings maps each of vitrine.ProductOrderings to its SQL.
var productOrderings = map[string]string{
	"created_at": "p.created_at, p.id",
	"name":       "p.name, p.id",
	"price":      "p.price_cents, p.id",
	"id":         "p.id",
}

// Products returns one page of products with their galleries, and the total
// number of products matching the query.
func (d *DB) Products(ctx context.Context, pq vitrine.ProductQuery) ([]*vitrine.Product, int, error) {
	where, args := "", []any{}
	if pq.Search != "" {
		// LIKE with our own escape character, so % and _ in a search are
		// literal, over search_text, which is folded the same way as the
		// search (SQLite's own lower() and LIKE fold ASCII only).
		pat := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(searchText(pq.Search)) + "%"
		where = ` WHERE p.search_text LIKE ? ESCAPE '\'`
		args = append(args, pat)
	}
	var total int
	if err := d.pool.Read.QueryRowContext(ctx, d.q(`SELECT count(*) FROM products p`+where), args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count products: %w", err)
	}
	ordering := pq.Ordering
	if ordering == "" {
		ordering = "-created_at"
	}
	order, ok := productOrderings[strings.TrimPrefix(ordering, "-")]
	if !ok {
		return nil, 0, vitrine.Errorf(vitrine.Invalid, "Unknown ordering %q.", ordering)
	}
	if strings.HasPrefix(ordering, "-") {
		order = strings.ReplaceAll(order, ",", " DESC,") + " DESC"
	}
	rows, err := d.pool.Read.QueryContext(ctx, d.q(`SELECT `+productCols+` FROM products p`+where+
		` ORDER BY `+order+` LIMIT ? OFFSET ?`), append(args, pq.PageSize, (pq.Page-1)*pq.PageSize)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list products: %w", err)
	}
	defer rows.Close()
	var ps []*vitrine.Product
	for rows.Next() {
		p, err := scanProduct(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list products: %w", err)
		}
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list products: %w", err)
	}
	if err := d.attachImages(ctx, d.pool.Read, ps); err != nil {
		return nil, 0, err
	}
	return ps, total, nil
}

// UpdateProduct applies ch to the product with this slug and returns it.
// A replaced or removed single image is deleted from storage by a job
// enqueued in the same transaction; its key is returned in dropped, so the
// caller may delete it at once (deleting twice is harmless). NotFound if
// there is no such product; Conflict on "slug" if the new slug is taken.
func (d *DB) UpdateProduct(ctx context.Context, slug vitrine.Slug, ch vitrine.ProductChange) (p *vitrine.Product, dropped []string, err error) {
	err = d.inTx(ctx, func(tx *sql.Tx) error {
		dropped = nil
		var err error
		p, err = scanProduct(tx.QueryRowContext(ctx, d.q(`SELECT `+productCols+` FROM products p WHERE p.slug = ?`+d.forUpdate()), string(slug)))
		if err != nil {
			return notFound(err, "product "+string(slug))
		}
		if ch.Name != nil {
			p.Name = *ch.Name
		}
		if ch.Slug != nil {
			p.Slug = *ch.Slug
		}
		if ch.Description != nil {
			p.Description = *ch.Description
		}
		if ch.SetPrice {
			p.Price = ch.Price
		}
		var oldKey string
		if ch.SetImage {
			oldKey = p.ImageKey
			p.ImageKey, p.ImageWidth, p.ImageHeight = "", 0, 0
			if ch.Image != nil {
				p.ImageKey, p.ImageWidth, p.ImageHeight = ch.Image.Key, ch.Image.Width, ch.Image.Height
			}
		}
		var key sql.NullString
		var w, h sql.NullInt64
		if p.ImageKey != "" {
			key = sql.NullString{String: p.ImageKey, Valid: true}
			w = sql.NullInt64{Int64: int64(p.ImageWidth), Valid: true}
			h = sql.NullInt64{Int64: int64(p.ImageHeight), Valid: true}
		}
		p.UpdatedAt = d.now()
		_, err = tx.ExecContext(ctx, d.q(`UPDATE products SET name = ?, slug = ?, description = ?, price_cents = ?,
			image_key = ?, image_width = ?, image_height = ?, search_text = ?, updated_at = ? WHERE id = ?`),
			p.Name, string(p.Slug), p.Description, nullPrice(p.Price), key, w, h, productSearchText(p), p.UpdatedAt, p.ID)
		if isUnique(err, "slug") {
			return slugTaken(err)
		}
		if err != nil {
			return fmt.Errorf("update product %s: %w", slug, err)
		}
		if oldKey != "" && oldKey != p.ImageKey {
			dropped = []string{oldKey}
			if err := d.enqueue.EnqueueDeleteTx(ctx, tx, dropped); err != nil {
				return fmt.Errorf("update product %s: %w", slug, err)
			}
		}
		return d.attachImages(ctx, tx, []*vitrine.Product{p})
	})
	if err != nil {
		return nil, nil, err
	}
	return p, dropped, nil
}

// DeleteProduct deletes the product with this slug and its gallery. Every
// file they referenced (single image, originals, renditions) is deleted by a
// job enqueued in the same transaction, and returned in dropped for the
// caller to delete at once if it likes. NotFound if there is no such product.
func (d *DB) DeleteProduct(ctx context.Context, slug vitrine.Slug) (dropped []string, err error) {
	err = d.inTx(ctx, func(tx *sql.Tx) error {
		var id int64
		var key sql.NullString
		err := tx.QueryRowContext(ctx, d.q(`SELECT id, image_key FROM products WHERE slug = ?`+d.forUpdate()), string(slug)).Scan(&id, &key)
		if err != nil {
			return notFound(err, "product "+string(slug))
		}
		keys, err := d.galleryKeys(ctx, tx, `i.product_id = ?`, id)
		if err != nil {
			return err
		}
		if key.Valid {
			keys = append(keys, key.String)
		}
		if _, err := tx.ExecContext(ctx, d.q(`DELETE FROM products WHERE id = ?`), id); err != nil {
			return fmt.Errorf("delete product %s: %w", slug, err)
		}
		dropped = keys
		if err := d.enqueue.EnqueueDeleteTx(ctx, tx, keys); err != nil {
			return fmt.Errorf("delete product %s: %w", slug, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return dropped, nil
}

// searchText folds text for ?search= matching: Unicode lower case.
func searchText(s string) string { return strings.ToLower(s) }

// productSearchText is what a search matches: the name and the slug.
func productSearchText(p *vitrine.Product) string {
	return searchText(p.Name) + "\n" + searchText(string(p.Slug))
}
