package sqldb

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/vitrine/vitrine"
)

const imageCols = `i.id, i.product_id, i.key, i.format, i.width, i.height, i.bytes, i.alt_text, i.caption,
	i.is_primary, i.sort_order, i.status, i.error, i.placeholder, i.dominant_color, i.uploaded_at`

// imageOrder is the gallery's display order: the note's ordering
// ['order', 'uploaded_at'], then id so that ties are stable.
const imageOrder = ` ORDER BY i.sort_order, i.uploaded_at, i.id`

func scanImage(row scanner) (*vitrine.Image, error) {
	var img vitrine.Image
	err := row.Scan(&img.ID, &img.ProductID, &img.Key, &img.Format, &img.Width, &img.Height, &img.Bytes,
		&img.AltText, &img.Caption, &img.IsPrimary, &img.Order, &img.Status, &img.Error,
		&img.Placeholder, &img.DominantColor, &img.UploadedAt)
	img.UploadedAt = img.UploadedAt.UTC()
	return &img, err
}

// queryImages runs a SELECT of images (with where over alias i) and
// attaches their renditions.
func (d *DB) queryImages(ctx context.Context, q querier, where string, args ...any) ([]*vitrine.Image, error) {
	rows, err := q.QueryContext(ctx, d.q(`SELECT `+imageCols+` FROM images i WHERE `+where+imageOrder), args...)
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	defer rows.Close()
	var imgs []*vitrine.Image
	byID := map[int64]*vitrine.Image{}
	for rows.Next() {
		img, err := scanImage(rows)
		if err != nil {
			return nil, fmt.Errorf("list images: %w", err)
		}
		imgs = append(imgs, img)
		byID[img.ID] = img
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	rows.Close()
	if len(imgs) == 0 {
		return imgs, nil
	}
	ids := make([]any, 0, len(imgs))
	for _, img := range imgs {
		ids = append(ids, img.ID)
	}
	rrows, err := q.QueryContext(ctx, d.q(`SELECT image_id, name, spec, key, format, width, height, bytes
		FROM renditions WHERE image_id IN (`+placeholders(len(ids))+`) ORDER BY image_id, name`), ids...)
	if err != nil {
		return nil, fmt.Errorf("list renditions: %w", err)
	}
	defer rrows.Close()
	for rrows.Next() {
		var id int64
		var r vitrine.Rendition
		if err := rrows.Scan(&id, &r.Name, &r.Spec, &r.Key, &r.Format, &r.Width, &r.Height, &r.Bytes); err != nil {
			return nil, fmt.Errorf("list renditions: %w", err)
		}
		byID[id].Renditions = append(byID[id].Renditions, r)
	}
	return imgs, rrows.Err()
}

// attachImages fills the gallery of each product with one query.
func (d *DB) attachImages(ctx context.Context, q querier, ps []*vitrine.Product) error {
	if len(ps) == 0 {
		return nil
	}
	ids := make([]any, len(ps))
	byID := make(map[int64]*vitrine.Product, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
		byID[p.ID] = p
		p.Images = []*vitrine.Image{}
	}
	imgs, err := d.queryImages(ctx, q, `i.product_id IN (`+placeholders(len(ids))+`)`, ids...)
	if err != nil {
		return err
	}
	for _, img := range imgs {
		p := byID[img.ProductID]
		p.Images = append(p.Images, img)
	}
	return nil
}

// galleryKeys returns the keys of the originals and renditions of the
// images selected by where (over alias i).
func (d *DB) galleryKeys(ctx context.Context, tx *sql.Tx, where string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, d.q(`SELECT i.key FROM images i WHERE `+where+`
		UNION ALL SELECT r.key FROM renditions r JOIN images i ON i.id = r.image_id WHERE `+where), append(args, args...)...)
	if err != nil {
		return nil, fmt.Errorf("gallery keys: %w", err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("gallery keys: %w", err)
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// Images returns the gallery of a product in display order.
func (d *DB) Images(ctx context.Context, productID int64) ([]*vitrine.Image, error) {
	return d.queryImages(ctx, d.pool.Read, `i.product_id = ?`, productID)
}

// Image returns one image of a product, or NotFound (also when the image
// belongs to another product).
func (d *DB) Image(ctx context.Context, productID, id int64) (*vitrine.Image, error) {
	return d.oneImage(ctx, d.pool.Read, `i.product_id = ? AND i.id = ?`, productID, id)
}

// ImageByID returns an image whatever its product, or NotFound.
func (d *DB) ImageByID(ctx context.Context, id int64) (*vitrine.Image, error) {
	return d.oneImage(ctx, d.pool.Read, `i.id = ?`, id)
}

func (d *DB) oneImage(ctx context.Context, q querier, where string, args ...any) (*vitrine.Image, error) {
	imgs, err := d.queryImages(ctx, q, where, args...)
	if err != nil {
		return nil, err
	}
	if len(imgs) == 0 {
		return nil, notFound(sql.ErrNoRows, "image")
	}
	return imgs[0], nil
}

// lockProduct checks that the product exists and, on PostgreSQL, locks its
// row, so that concurrent changes to one gallery (primary flag, order,
// image count) run one after the other.
func (d *DB) lockProduct(ctx context.Context, tx *sql.Tx, productID int64) error {
	var id int64
	err := tx.QueryRowContext(ctx, d.q(`SELECT id FROM products WHERE id = ?`+d.forUpdate()), productID).Scan(&id)
	return notFound(err, "product")
}

// AddImages adds images to a product's gallery in one transaction and
// enqueues their render jobs in it. At most maxPerProduct images may exist
// per product: only the first images that fit are added, and the number
// added is returned. With appendOrder, the images get the display orders
// after the last existing one, in slice order; otherwise each keeps its
// Order. An image with IsPrimary set takes the primary flag from the others.
// IDs, status and upload times are filled in. NotFound if the product is gone.
func (d *DB) AddImages(ctx context.Context, productID int64, imgs []*vitrine.Image, appendOrder bool, maxPerProduct int) (int, error) {
	added := 0
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		added = 0
		if err := d.lockProduct(ctx, tx, productID); err != nil {
			return err
		}
		var count, maxOrder int
		if err := tx.QueryRowContext(ctx, d.q(`SELECT count(*), coalesce(max(sort_order), -1) FROM images WHERE product_id = ?`),
			productID).Scan(&count, &maxOrder); err != nil {
			return fmt.Errorf("add images: %w", err)
		}
		now := d.now()
		var ids []int64
		var primary *vitrine.Image
		for _, img := range imgs {
			if count+added >= maxPerProduct {
				break
			}
			if appendOrder {
				img.Order = min(maxOrder+1+added, vitrine.MaxOrder)
			}
			if img.IsPrimary {
				if err := d.clearPrimary(ctx, tx, productID); err != nil {
					return err
				}
				if primary != nil {
					primary.IsPrimary = false
				}
				primary = img
			}
			img.ProductID, img.Status, img.UploadedAt = productID, vitrine.StatusPending, now
			err := tx.QueryRowContext(ctx, d.q(`INSERT INTO images
				(product_id, key, format, width, height, bytes, alt_text, caption, is_primary, sort_order, status, uploaded_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
				productID, img.Key, string(img.Format), img.Width, img.Height, img.Bytes, img.AltText, img.Caption,
				img.IsPrimary, img.Order, string(img.Status), now).Scan(&img.ID)
			if err != nil {
				return fmt.Errorf("add image: %w", err)
			}
			ids = append(ids, img.ID)
			added++
		}
		if len(ids) > 0 {
			if err := d.enqueue.EnqueueRenderTx(ctx, tx, ids); err != nil {
				return fmt.Errorf("add images: %w", err)
			}
		}
		return nil
	})
	return added, err
}

func (d *DB) clearPrimary(ctx context.Context, tx *sql.Tx, productID int64) error {
	_, err := tx.ExecContext(ctx, d.q(`UPDATE images SET is_primary = FALSE WHERE product_id = ? AND is_primary`), productID)
	if err != nil {
		return fmt.Errorf("clear primary: %w", err)
	}
	return nil
}

// UpdateImage changes the metadata of one image of a product and returns
// it. Setting IsPrimary takes the flag from every other image of the
// product in the same transaction. NotFound if there is no such image.
func (d *DB) UpdateImage(ctx context.Context, productID, id int64, ch vitrine.ImageChange) (*vitrine.Image, error) {
	var out *vitrine.Image
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		if err := d.lockProduct(ctx, tx, productID); err != nil {
			return err
		}
		img, err := d.oneImage(ctx, tx, `i.product_id = ? AND i.id = ?`, productID, id)
		if err != nil {
			return err
		}
		if ch.AltText != nil {
			img.AltText = *ch.AltText
		}
		if ch.Caption != nil {
			img.Caption = *ch.Caption
		}
		if ch.Order != nil {
			img.Order = *ch.Order
		}
		if ch.IsPrimary != nil {
			if *ch.IsPrimary && !img.IsPrimary {
				if err := d.clearPrimary(ctx, tx, productID); err != nil {
					return err
				}
			}
			img.IsPrimary = *ch.IsPrimary
		}
		if _, err := tx.ExecContext(ctx, d.q(`UPDATE images SET alt_text = ?, caption = ?, sort_order = ?, is_primary = ? WHERE id = ?`),
			img.AltText, img.Caption, img.Order, img.IsPrimary, img.ID); err != nil {
			return fmt.Errorf("update image %d: %w", id, err)
		}
		out = img
		return nil
	})
	return out, err
}

// ReorderImages puts the listed images first, in the given order, and the
// others after them in their current relative order, then rewrites every
// display order as 0..n-1, in one transaction. It returns the new gallery.
// ids must name images of this product, each once: otherwise it is an
// Invalid error naming the offending ids and nothing changes.
func (d *DB) ReorderImages(ctx context.Context, productID int64, ids []int64) ([]*vitrine.Image, error) {
	var out []*vitrine.Image
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		if err := d.lockProduct(ctx, tx, productID); err != nil {
			return err
		}
		current, err := d.queryImages(ctx, tx, `i.product_id = ?`, productID)
		if err != nil {
			return err
		}
		byID := make(map[int64]*vitrine.Image, len(current))
		for _, img := range current {
			byID[img.ID] = img
		}
		var unknown, repeated []string
		seen := make(map[int64]bool, len(ids))
		for _, id := range ids {
			switch {
			case byID[id] == nil:
				unknown = append(unknown, fmt.Sprint(id))
			case seen[id]:
				repeated = append(repeated, fmt.Sprint(id))
			}
			seen[id] = true
		}
		if len(unknown) > 0 {
			return vitrine.Errorf(vitrine.Invalid, "order contains IDs that are not images of this product: %s", strings.Join(unknown, ", "))
		}
		if len(repeated) > 0 {
			return vitrine.Errorf(vitrine.Invalid, "order lists these image IDs more than once: %s", strings.Join(repeated, ", "))
		}
		next := make([]*vitrine.Image, 0, len(current))
		for _, id := range ids {
			next = append(next, byID[id])
		}
		for _, img := range current {
			if !seen[img.ID] {
				next = append(next, img)
			}
		}
		for i, img := range next {
			if img.Order == i {
				continue
			}
			img.Order = i
			if _, err := tx.ExecContext(ctx, d.q(`UPDATE images SET sort_order = ? WHERE id = ?`), i, img.ID); err != nil {
				return fmt.Errorf("reorder: %w", err)
			}
		}
		// The gallery order breaks ties by upload time and id; re-read so the
		// answer is exactly what a later GET shows.
		out, err = d.queryImages(ctx, tx, `i.product_id = ?`, productID)
		return err
	})
	return out, err
}

// DeleteImage deletes one image of a product; its original and renditions
// are deleted from storage by a job enqueued in the same transaction, and
// returned in dropped for the caller to delete at once if it likes.
// NotFound if there is no such image.
func (d *DB) DeleteImage(ctx context.Context, productID, id int64) (dropped []string, err error) {
	err = d.inTx(ctx, func(tx *sql.Tx) error {
		if err := d.lockProduct(ctx, tx, productID); err != nil {
			return err
		}
		keys, err := d.galleryKeys(ctx, tx, `i.product_id = ? AND i.id = ?`, productID, id)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, d.q(`DELETE FROM images WHERE product_id = ? AND id = ?`), productID, id)
		if err != nil {
			return fmt.Errorf("delete image %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound(sql.ErrNoRows, "image")
		}
		dropped = keys
		return d.enqueue.EnqueueDeleteTx(ctx, tx, keys)
	})
	if err != nil {
		return nil, err
	}
	return dropped, nil
}

// SaveRenditions records what rendering made of an image and marks it
// ready, in one transaction: each rendition replaces the one of the same
// name and the placeholder data is set. Files of renditions replaced under a
// new key are deleted by an enqueued job. If the image is gone, or its original is no longer
// originalKey, nothing is saved and the error is NotFound: the caller owns
// the files it wrote.
func (d *DB) SaveRenditions(ctx context.Context, imageID int64, originalKey string, ri vitrine.RenderedImage) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		var key string
		err := tx.QueryRowContext(ctx, d.q(`SELECT key FROM images WHERE id = ?`+d.forUpdate()), imageID).Scan(&key)
		if err != nil {
			return notFound(err, "image")
		}
		if key != originalKey {
			return notFound(sql.ErrNoRows, "image with this original")
		}
		old, err := d.queryImages(ctx, tx, `i.id = ?`, imageID)
		if err != nil {
			return err
		}
		// A file goes when its rendition is replaced under another key; the
		// others keep their rows and files.
		var stale []string
		for _, r := range ri.Renditions {
			if prev, ok := old[0].Rendition(r.Name); ok && prev.Key != r.Key {
				stale = append(stale, prev.Key)
			}
		}
		for _, r := range ri.Renditions {
			if _, err := tx.ExecContext(ctx, d.q(`DELETE FROM renditions WHERE image_id = ? AND name = ?`), imageID, r.Name); err != nil {
				return fmt.Errorf("save renditions: %w", err)
			}
			if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO renditions (image_id, name, spec, key, format, width, height, bytes)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), imageID, r.Name, r.Spec, r.Key, string(r.Format), r.Width, r.Height, r.Bytes); err != nil {
				return fmt.Errorf("save renditions: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, d.q(`UPDATE images SET status = ?, error = '', placeholder = ?, dominant_color = ? WHERE id = ?`),
			string(vitrine.StatusReady), ri.Placeholder, ri.DominantColor, imageID); err != nil {
			return fmt.Errorf("save renditions: %w", err)
		}
		return d.enqueue.EnqueueDeleteTx(ctx, tx, stale)
	})
}

// RemoveRenditions removes the named renditions of an image (those no
// longer configured); their files are deleted by a job enqueued in the same
// transaction. Names the image does not have are ignored.
func (d *DB) RemoveRenditions(ctx context.Context, imageID int64, names []string) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		imgs, err := d.queryImages(ctx, tx, `i.id = ?`, imageID)
		if err != nil || len(imgs) == 0 {
			return err
		}
		var keys []string
		for _, name := range names {
			r, ok := imgs[0].Rendition(name)
			if !ok {
				continue
			}
			if _, err := tx.ExecContext(ctx, d.q(`DELETE FROM renditions WHERE image_id = ? AND name = ?`), imageID, name); err != nil {
				return fmt.Errorf("remove renditions: %w", err)
			}
			keys = append(keys, r.Key)
		}
		return d.enqueue.EnqueueDeleteTx(ctx, tx, keys)
	})
}

// FailImage marks an image failed with a reason safe to show. A missing
// image is not an error: there is nothing left to mark.
func (d *DB) FailImage(ctx context.Context, imageID int64, reason string) error {
	_, err := d.pool.Write.ExecContext(ctx, d.q(`UPDATE images SET status = ?, error = ? WHERE id = ?`),
		string(vitrine.StatusFailed), reason, imageID)
	if err != nil {
		return fmt.Errorf("fail image %d: %w", imageID, err)
	}
	return nil
}

// ImagesAfter returns up to limit images with an id above afterID, in id
// order, with their renditions: all images, or those of one product when
// slug is set. It pages through the whole gallery table for reprocessing.
func (d *DB) ImagesAfter(ctx context.Context, slug vitrine.Slug, afterID int64, limit int) ([]*vitrine.Image, error) {
	where, args := `i.id > ?`, []any{afterID}
	if slug != "" {
		where += ` AND i.product_id = (SELECT id FROM products WHERE slug = ?)`
		args = append(args, string(slug))
	}
	rows, err := d.pool.Read.QueryContext(ctx, d.q(`SELECT i.id FROM images i WHERE `+where+` ORDER BY i.id LIMIT ?`), append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("images after %d: %w", afterID, err)
	}
	var ids []any
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("images after %d: %w", afterID, err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return nil, err
	}
	imgs, err := d.queryImages(ctx, d.pool.Read, `i.id IN (`+placeholders(len(ids))+`)`, ids...)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(imgs, func(a, b *vitrine.Image) int { return cmp.Compare(a.ID, b.ID) })
	return imgs, nil
}

// EachReferencedKey calls fn for the key of every stored file a row
// refers to: products' single images, gallery originals and renditions.
// It reads with a plain query, so rows committed while it runs may or may
// not be seen; the sweep's grace period covers those.
func (d *DB) EachReferencedKey(ctx context.Context, fn func(key string) error) error {
	rows, err := d.pool.Read.QueryContext(ctx, `SELECT image_key FROM products WHERE image_key IS NOT NULL
		UNION ALL SELECT key FROM images UNION ALL SELECT key FROM renditions`)
	if err != nil {
		return fmt.Errorf("referenced keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		if err := rows.Scan(&key); err != nil {
			return fmt.Errorf("referenced keys: %w", err)
		}
		if err := fn(key); err != nil {
			return err
		}
	}
	return rows.Err()
}
