package sqldb_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vitrine/vitrine"
	"github.com/vitrine/vitrine/sqldb"
)

// orders returns the display order of each image of a product, in gallery
// order.
func orders(t *testing.T, db *sqldb.DB, productID int64) []int {
	t.Helper()
	imgs, err := db.Images(context.Background(), productID)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int, len(imgs))
	for i, img := range imgs {
		out[i] = img.Order
	}
	return out
}

// primaries returns the ids of a product's primary images.
func primaries(t *testing.T, db *sqldb.DB, productID int64) []int64 {
	t.Helper()
	imgs, err := db.Images(context.Background(), productID)
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, img := range imgs {
		if img.IsPrimary {
			out = append(out, img.ID)
		}
	}
	return out
}

func TestAddImages(t *testing.T) {
	t.Parallel()
	pool, db, _ := open(t)
	ctx := context.Background()
	p := newProduct(t, db, "mug")
	imgs := []*vitrine.Image{newImage(), newImage()}
	imgs[1].Format, imgs[1].AltText, imgs[1].Caption = vitrine.WebP, "", "Ünïcode ✓"

	added, err := db.AddImages(ctx, p.ID, imgs, true, 10)
	if err != nil || added != 2 {
		t.Fatalf("AddImages: got %d, %v, want 2, nil", added, err)
	}
	for i, img := range imgs {
		if img.ID == 0 || img.ProductID != p.ID || img.Status != vitrine.StatusPending || img.Order != i {
			t.Errorf("image %d: got id %d, product %d, status %q, order %d, want an id, %d, pending, %d",
				i, img.ID, img.ProductID, img.Status, img.Order, p.ID, i)
		}
		wantTime(t, "UploadedAt", img.UploadedAt, stored(start))
	}
	if got, want := renderJobs(t, pool), ids(imgs); !slices.Equal(got, want) {
		t.Errorf("render jobs: got %v, want %v", got, want)
	}

	got, err := db.Images(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, imgs) {
		t.Errorf("Images: got %s, want %s", asJSON(got), asJSON(imgs))
	}
}

func TestAddImagesProductMissing(t *testing.T) {
	t.Parallel()
	pool, db, _ := open(t)
	p := newProduct(t, db, "mug")
	_, err := db.AddImages(context.Background(), p.ID+1, []*vitrine.Image{newImage()}, true, 10)
	wantKind(t, err, vitrine.NotFound)
	if got := renderJobs(t, pool); len(got) != 0 {
		t.Errorf("render jobs: got %v, want none", got)
	}
	if n := count(t, pool, `SELECT count(*) FROM images`); n != 0 {
		t.Errorf("images: got %d, want 0", n)
	}
}

// TestAddImagesRollback shows that the rows and the jobs share one
// transaction: a failing second insert takes the first row and every job
// with it.
func TestAddImagesRollback(t *testing.T) {
	t.Parallel()
	pool, db, _ := open(t)
	p := newProduct(t, db, "mug")
	a, b := newImage(), newImage()
	b.Key = a.Key // images.key is unique
	_, err := db.AddImages(context.Background(), p.ID, []*vitrine.Image{a, b}, true, 10)
	if err == nil {
		t.Fatal("AddImages with a repeated key: got nil error, want one")
	}
	if got := renderJobs(t, pool); len(got) != 0 {
		t.Errorf("render jobs: got %v, want none", got)
	}
	if n := count(t, pool, `SELECT count(*) FROM images`); n != 0 {
		t.Errorf("images: got %d, want 0", n)
	}
}

func TestAddImagesMaxPerProduct(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name               string
		max, existing, add int
		want               int
	}{
		{"room for all", 10, 2, 3, 3},
		{"room for one", 3, 2, 3, 1},
		{"exactly full", 3, 0, 3, 3},
		{"already full", 3, 3, 2, 0},
		{"nothing to add", 3, 1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pool, db, _ := open(t)
			p := newProduct(t, db, "mug")
			existing := addImages(t, db, p.ID, tt.existing)
			imgs := make([]*vitrine.Image, tt.add)
			for i := range imgs {
				imgs[i] = newImage()
			}
			got, err := db.AddImages(context.Background(), p.ID, imgs, true, tt.max)
			if err != nil || got != tt.want {
				t.Fatalf("AddImages: got %d, %v, want %d, nil", got, err, tt.want)
			}
			gallery, err := db.Images(context.Background(), p.ID)
			if err != nil {
				t.Fatal(err)
			}
			// The first images that fit are added, the rest are not.
			want := append(ids(existing), ids(imgs[:tt.want])...)
			if got := ids(gallery); !slices.Equal(got, want) {
				t.Errorf("image ids: got %v, want %v", got, want)
			}
			for _, img := range imgs[tt.want:] {
				if img.ID != 0 {
					t.Errorf("image not added: got id %d, want 0", img.ID)
				}
			}
			if got := renderJobs(t, pool); !slices.Equal(got, want) {
				t.Errorf("render jobs: got %v, want %v", got, want)
			}
		})
	}
}

func TestAddImagesOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		existing    []int // orders of the images already there
		given       []int // Order of each added image
		appendOrder bool
		want        []int // Order of each added image after the call
	}{
		{"append to empty", nil, []int{5, 5, 5}, true, []int{0, 1, 2}},
		{"append after max", []int{0, 7, 3}, []int{0, 0}, true, []int{8, 9}},
		{"append at the limit", []int{vitrine.MaxOrder - 1}, []int{0, 0, 0}, true, []int{vitrine.MaxOrder, vitrine.MaxOrder, vitrine.MaxOrder}},
		{"keep given", []int{0, 7}, []int{3, 3, 1}, false, []int{3, 3, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, db, _ := open(t)
			p := newProduct(t, db, "mug")
			if len(tt.existing) > 0 {
				existing := make([]*vitrine.Image, len(tt.existing))
				for i, o := range tt.existing {
					existing[i] = newImage()
					existing[i].Order = o
				}
				if _, err := db.AddImages(context.Background(), p.ID, existing, false, 100); err != nil {
					t.Fatal(err)
				}
			}
			imgs := make([]*vitrine.Image, len(tt.given))
			for i, o := range tt.given {
				imgs[i] = newImage()
				imgs[i].Order = o
			}
			if _, err := db.AddImages(context.Background(), p.ID, imgs, tt.appendOrder, 100); err != nil {
				t.Fatal(err)
			}
			for i, img := range imgs {
				if img.Order != tt.want[i] {
					t.Errorf("returned order of image %d: got %d, want %d", i, img.Order, tt.want[i])
				}
				got, err := db.Image(context.Background(), p.ID, img.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.Order != tt.want[i] {
					t.Errorf("stored order of image %d: got %d, want %d", i, got.Order, tt.want[i])
				}
			}
		})
	}
}

func TestAddImagesPrimary(t *testing.T) {
	t.Parallel()
	_, db, _ := open(t)
	ctx := context.Background()
	p := newProduct(t, db, "mug")
	other := newProduct(t, db, "other")

	a := newImage()
	a.IsPrimary = true
	otherPrimary := newImage()
	otherPrimary.IsPrimary = true
	if _, err := db.AddImages(ctx, p.ID, []*vitrine.Image{a}, true, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddImages(ctx, other.ID, []*vitrine.Image{otherPrimary}, true, 10); err != nil {
		t.Fatal(err)
	}
	b, c := newImage(), newImage()
	b.IsPrimary = true
	if _, err := db.AddImages(ctx, p.ID, []*vitrine.Image{b, c}, true, 10); err != nil {
		t.Fatalf("AddImages with a second primary: got %v, want nil", err)
	}
	if got, want := primaries(t, db, p.ID), []int64{b.ID}; !slices.Equal(got, want) {
		t.Errorf("primary images: got %v, want %v", got, want)
	}
	// Another product's primary is not touched.
	if got, want := primaries(t, db, other.ID), []int64{otherPrimary.ID}; !slices.Equal(got, want) {
		t.Errorf("other product's primary images: got %v, want %v", got, want)
	}
}

func TestImagesOrder(t *testing.T) {
	t.Parallel()
	_, db, clk := open(t)
	ctx := context.Background()
	p := newProduct(t, db, "mug")
	add := func(order int) *vitrine.Image {
		t.Helper()
		img := newImage()
		img.Order = order
		if _, err := db.AddImages(ctx, p.ID, []*vitrine.Image{img}, false, 100); err != nil {
			t.Fatal(err)
		}
		return img
	}
	// Added in id order a..e; displayed by order, then upload time, then id.
	clk.Set(start.Add(2 * time.Second))
	a := add(1)
	b := add(0) // same order and time as c, lower id
	clk.Set(start.Add(1 * time.Second))
	c := add(1) // earlier than a, same order
	clk.Set(start.Add(2 * time.Second))
	d := add(0)
	clk.Set(start.Add(1500 * time.Millisecond))
	e := add(1) // between c and a
	f := add(-1)

	want := []int64{f.ID, b.ID, d.ID, c.ID, e.ID, a.ID}
	imgs, err := db.Images(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(imgs); !slices.Equal(got, want) {
		t.Errorf("Images: got %v, want %v", got, want)
	}
	prod, err := db.Product(ctx, "mug")
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(prod.Images); !slices.Equal(got, want) {
		t.Errorf("Product.Images: got %v, want %v", got, want)
	}
}

func TestImage(t *testing.T) {
	t.Parallel()
	_, db, _ := open(t)
	ctx := context.Background()
	p := newProduct(t, db, "mug")
	other := newProduct(t, db, "other")
	img := addImages(t, db, p.ID, 1)[0]
	otherImg := addImages(t, db, other.ID, 1)[0]

	tests := []struct {
		name      string
		get       func() (*vitrine.Image, error)
		want      *vitrine.Image
		wantFound bool
	}{
		{"Image", func() (*vitrine.Image, error) { return db.Image(ctx, p.ID, img.ID) }, img, true},
		{"Image of other product", func() (*vitrine.Image, error) { return db.Image(ctx, other.ID, img.ID) }, nil, false},
		{"Image of missing product", func() (*vitrine.Image, error) { return db.Image(ctx, other.ID+1, img.ID) }, nil, false},
		{"Image unknown id", func() (*vitrine.Image, error) { return db.Image(ctx, p.ID, otherImg.ID+1) }, nil, false},
		{"ImageByID", func() (*vitrine.Image, error) { return db.ImageByID(ctx, otherImg.ID) }, otherImg, true},
		{"ImageByID unknown id", func() (*vitrine.Image, error) { return db.ImageByID(ctx, otherImg.ID+1) }, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.get()
			if !tt.wantFound {
				wantKind(t, err, vitrine.NotFound)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %s, want %s", asJSON(got), asJSON(tt.want))
			}
		})
	}
}

// TestOnePrimaryIndex checks that the database itself, not only the code,
// allows one primary image per product.
func TestOnePrimaryIndex(t *testing.T) {
	t.Parallel()
	pool, db, _ := open(t)
	ctx := context.Background()
	p := newProduct(t, db, "mug")
	other := newProduct(t, db, "other")
	insert := func(productID int64, primary bool) error {
		_, err := pool.Write.ExecContext(ctx, pool.Rebind(`INSERT INTO images (product_id, key, format, width, height, bytes, is_primary, uploaded_at)
			VALUES (?, ?, 'jpeg', 1, 1, 1, ?, ?)`), productID, newKey(), primary, time.Now().UTC())
		return err
	}
	steps := []struct {
		name      string
		productID int64
		primary   bool
		wantErr   bool
	}{
		{"first primary", p.ID, true, false},
		{"not primary", p.ID, false, false},
		{"another not primary", p.ID, false, false},
		{"primary of another product", other.ID, true, false},
		{"second primary", p.ID, true, true},
	}
	for _, s := range steps {
		err := insert(s.productID, s.primary)
		if gotErr := err != nil; gotErr != s.wantErr {
			t.Errorf("%s: got error %v, want error %v", s.name, err, s.wantErr)
		}
	}
	if n := count(t, pool, `SELECT count(*) FROM images WHERE product_id = ? AND is_primary`, p.ID); n != 1 {
		t.Errorf("primary images: got %d, want 1", n)
	}
}

func TestUpdateImage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ch   vitrine.ImageChange
		want func(img *vitrine.Image)
	}{
		{"nothing", vitrine.ImageChange{}, func(*vitrine.Image) {}},
		{"alt text", vitrine.ImageChange{AltText: new("A red mug")}, func(img *vitrine.Image) { img.AltText = "A red mug" }},
		{"caption", vitrine.ImageChange{Caption: new("")}, func(img *vitrine.Image) { img.Caption = "" }},
		{"order", vitrine.ImageChange{Order: new(42)}, func(img *vitrine.Image) { img.Order = 42 }},
		{"primary", vitrine.ImageChange{IsPrimary: new(true)}, func(img *vitrine.Image) { img.IsPrimary = true }},
		{"all", vitrine.ImageChange{AltText: new("a"), Caption: new("c"), Order: new(0), IsPrimary: new(false)},
			func(img *vitrine.Image) { img.AltText, img.Caption, img.Order = "a", "c", 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, db, _ := open(t)
			ctx := context.Background()
			p := newProduct(t, db, "mug")
			imgs := addImages(t, db, p.ID, 2)
			img := imgs[1]

			got, err := db.UpdateImage(ctx, p.ID, img.ID, tt.ch)
			if err != nil {
				t.Fatalf("UpdateImage: got %v, want nil", err)
			}
			want := *img
			tt.want(&want)
			if !reflect.DeepEqual(got, &want) {
				t.Errorf("returned: got %s, want %s", asJSON(got), asJSON(&want))
			}
			all, err := db.Images(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(all, func(x *vitrine.Image) bool { return x.ID == img.ID })
			if i < 0 || !reflect.DeepEqual(all[i], &want) {
				t.Errorf("stored: got %s, want %s", asJSON(all), asJSON(&want))
			}
			// The other image is untouched.
			j := slices.IndexFunc(all, func(x *vitrine.Image) bool { return x.ID == imgs[0].ID })
			if j < 0 || !reflect.DeepEqual(all[j], imgs[0]) {
				t.Errorf("other image: got %s, want %s", asJSON(all), asJSON(imgs[0]))
			}
		})
	}
}

func TestUpdateImagePrimaryMoves(t *testing.T) {
	t.Parallel()
	_, db, _ := open(t)
	ctx := context.Background()
	p := newProduct(t, db, "mug")
	imgs := addImages(t, db, p.ID, 3)
	steps := []struct {
		name    string
		img     int
		primary bool
		want    []int // indexes of the primary images afterwards
	}{
		{"set A", 0, true, []int{0}},
		{"set B takes it from A", 1, true, []int{1}},
		{"set B again", 1, true, []int{1}},
		{"unset C keeps B", 2, false, []int{1}},
		{"unset B", 1, false, nil},
		{"set C", 2, true, []int{2}},
	}
	for _, s := range steps {
		if _, err := db.UpdateImage(ctx, p.ID, imgs[s.img].ID, vitrine.ImageChange{IsPrimary: new(s.primary)}); err != nil {
			t.Fatalf("%s: got %v, want nil", s.name, err)
		}
		var want []int64
		for _, i := range s.want {
			want = append(want, imgs[i].ID)
		}
		if got := primaries(t, db, p.ID); !slices.Equal(got, want) {
			t.Errorf("%s: primary images: got %v, want %v", s.name, got, want)
		}
	}
}

func TestUpdateImageNotFound(t *testing.T) {
	t.Parallel()
	_, db, _ := open(t)
	ctx := context.Background()
	p := newProduct(t, db, "mug")
	other := newProduct(t, db, "other")
	img := addImages(t, db, p.ID, 1)[0]
	otherImg := addImages(t, db, other.ID, 1)[0]

	_, err := db.UpdateImage(ctx, p.ID, otherImg.ID, vitrine.ImageChange{AltText: new("x"), IsPrimary: new(true)})
	wantKind(t, err, vitrine.NotFound)
	_, err = db.UpdateImage(ctx, other.ID+1, img.ID, vitrine.ImageChange{AltText: new("x")})
	wantKind(t, err, vitrine.NotFound)

	got, err := db.ImageByID(ctx, otherImg.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, otherImg) {
		t.Errorf("other product's image: got %s, want %s", asJSON(got), asJSON(otherImg))
	}
	if got := primaries(t, db, p.ID); len(got) != 0 {
		t.Errorf("primary images: got %v, want none", got)
	}
}

func TestUpdateImageConcurrentPrimary(t *testing.T) {
	t.Parallel()
	_, db, _ := open(t)
	p := newProduct(t, db, "mug")
	imgs := addImages(t, db, p.ID, 8)
	errs := make([]error, len(imgs))
	var wg sync.WaitGroup
	for i, img := range imgs {
		wg.Go(func() {
			_, errs[i] = db.UpdateImage(context.Background(), p.ID, img.ID, vitrine.ImageChange{IsPrimary: new(true)})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("UpdateImage %d: got %v, want nil", i, err)
		}
	}
	if got := primaries(t, db, p.ID); len(got) != 1 {
		t.Errorf("primary images: got %v, want exactly one", got)
	}
}

func TestReorderImages(t *testing.T) {
	t.Parallel()
	// Each case starts from a gallery a, b, c, d (orders 3, 7, 7, 20) and
	// another product's image x; order lists indexes into [a b c d x].
	const a, b, c, d, x = 0, 1, 2, 3, 4
	tests := []struct {
		name    string
		order   []int
		unknown int64 // an id that is no image at all, when not 0
		want    []int // gallery afterwards
		// For an Invalid error: the ids its Message ends with.
		wantInvalid []int
	}{
		{"empty list keeps the order", nil, 0, []int{a, b, c, d}, nil},
		{"all reversed", []int{d, c, b, a}, 0, []int{d, c, b, a}, nil},
		{"some first", []int{c, a}, 0, []int{c, a, b, d}, nil},
		{"one first", []int{d}, 0, []int{d, a, b, c}, nil},
		{"same order", []int{a, b, c, d}, 0, []int{a, b, c, d}, nil},
		{"unknown id", []int{b}, 9999, nil, nil},
		{"other product's image", []int{b, x, a}, 0, nil, []int{x}},
		{"repeated id", []int{b, a, b}, 0, nil, []int{b}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, db, _ := open(t)
			ctx := context.Background()
			p := newProduct(t, db, "mug")
			other := newProduct(t, db, "other")
			imgs := []*vitrine.Image{newImage(), newImage(), newImage(), newImage()}
			for i, o := range []int{3, 7, 7, 20} {
				imgs[i].Order = o
			}
			if _, err := db.AddImages(ctx, p.ID, imgs, false, 10); err != nil {
				t.Fatal(err)
			}
			imgs = append(imgs, addImages(t, db, other.ID, 1)...)

			var order []int64
			for _, i := range tt.order {
				order = append(order, imgs[i].ID)
			}
			if tt.unknown != 0 {
				order = append(order, tt.unknown)
			}
			got, err := db.ReorderImages(ctx, p.ID, order)

			if tt.want == nil {
				e := wantKind(t, err, vitrine.Invalid)
				var bad []string
				for _, i := range tt.wantInvalid {
					bad = append(bad, fmt.Sprint(imgs[i].ID))
				}
				if tt.unknown != 0 {
					bad = append(bad, fmt.Sprint(tt.unknown))
				}
				if suffix := ": " + strings.Join(bad, ", "); !strings.HasSuffix(e.Message, suffix) {
					t.Errorf("Message: got %q, want it to end with %q", e.Message, suffix)
				}
				if got := orders(t, db, p.ID); !slices.Equal(got, []int{3, 7, 7, 20}) {
					t.Errorf("orders after a refused reorder: got %v, want [3 7 7 20]", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReorderImages: got %v, want nil", err)
			}
			var want []int64
			for _, i := range tt.want {
				want = append(want, imgs[i].ID)
			}
			if gotIDs := ids(got); !slices.Equal(gotIDs, want) {
				t.Errorf("returned gallery: got %v, want %v", gotIDs, want)
			}
			gallery, err := db.Images(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(gallery, got) {
				t.Errorf("stored gallery: got %s, want the returned %s", asJSON(gallery), asJSON(got))
			}
			if got := orders(t, db, p.ID); !slices.Equal(got, []int{0, 1, 2, 3}) {
				t.Errorf("orders: got %v, want [0 1 2 3]", got)
			}
		})
	}
}

func TestReorderImagesProductMissing(t *testing.T) {
	t.Parallel()
	_, db, _ := open(t)
	p := newProduct(t, db, "mug")
	_, err := db.ReorderImages(context.Background(), p.ID+1, nil)
	wantKind(t, err, vitrine.NotFound)
}

func TestDeleteImage(t *testing.T) {
	t.Parallel()
	pool, db, _ := open(t)
	ctx := context.Background()
	p := newProduct(t, db, "mug")
	other := newProduct(t, db, "other")
	imgs := addImages(t, db, p.ID, 2)
	otherImg := addImages(t, db, other.ID, 1)[0]
	rs := []vitrine.Rendition{rendition("medium"), rendition("thumbnail")}
	if err := db.SaveRenditions(ctx, imgs[0].ID, imgs[0].Key, vitrine.RenderedImage{Renditions: rs}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveRenditions(ctx, otherImg.ID, otherImg.Key, vitrine.RenderedImage{Renditions: []vitrine.Rendition{rendition("medium")}}); err != nil {
		t.Fatal(err)
	}

	_, err := db.DeleteImage(ctx, p.ID, otherImg.ID)
	wantKind(t, err, vitrine.NotFound)
	_, err = db.DeleteImage(ctx, other.ID+1, imgs[0].ID)
	wantKind(t, err, vitrine.NotFound)
	wantDeleteJobs(t, pool)

	dropped, err := db.DeleteImage(ctx, p.ID, imgs[0].ID)
	if err != nil {
		t.Fatalf("DeleteImage: got %v, want nil", err)
	}
	wantDeleteJobs(t, pool, []string{imgs[0].Key, rs[0].Key, rs[1].Key})
	if want := []string{imgs[0].Key, rs[0].Key, rs[1].Key}; !slices.Equal(dropped, want) {
		t.Errorf("dropped: got %v, want %v", dropped, want)
	}
	if got := ids(mustImages(t, db, p.ID)); !slices.Equal(got, []int64{imgs[1].ID}) {
		t.Errorf("gallery: got %v, want %v", got, []int64{imgs[1].ID})
	}
	if n := count(t, pool, `SELECT count(*) FROM renditions WHERE image_id = ?`, imgs[0].ID); n != 0 {
		t.Errorf("renditions of the deleted image: got %d, want 0", n)
	}
	if _, err := db.ImageByID(ctx, otherImg.ID); err != nil {
		t.Errorf("other product's image: got %v, want it kept", err)
	}

	_, err = db.DeleteImage(ctx, p.ID, imgs[0].ID)
	wantKind(t, err, vitrine.NotFound)
	wantDeleteJobs(t, pool, []string{imgs[0].Key, rs[0].Key, rs[1].Key})
}

func mustImages(t *testing.T, db *sqldb.DB, productID int64) []*vitrine.Image {
	t.Helper()
	imgs, err := db.Images(context.Background(), productID)
	if err != nil {
		t.Fatal(err)
	}
	return imgs
}

// rendition returns a rendition called name with a fresh key.
func rendition(name string) vitrine.Rendition {
	return vitrine.Rendition{Name: name, Spec: name + "=200x200,contain,jpeg,q85", Key: newKey(), Format: vitrine.JPEG, Width: 200, Height: 150, Bytes: 10}
}

func TestSaveRenditions(t *testing.T) {
	t.Parallel()
	pool, db, _ := open(t)
	ctx := context.Background()
	p := newProduct(t, db, "mug")
	img := addImages(t, db, p.ID, 1)[0]
	if err := db.FailImage(ctx, img.ID, "it broke"); err != nil {
		t.Fatal(err)
	}

	thumb, medium := rendition("thumbnail"), rendition("medium")
	if err := db.SaveRenditions(ctx, img.ID, img.Key, vitrine.RenderedImage{Renditions: []vitrine.Rendition{thumb, medium}}); err != nil {
		t.Fatalf("SaveRenditions: got %v, want nil", err)
	}
	want := *img
	want.Status, want.Error = vitrine.StatusReady, ""
	want.Renditions = []vitrine.Rendition{medium, thumb} // read back by name
	wantImage := func(step string) {
		t.Helper()
		got, err := db.ImageByID(ctx, img.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("%s: ImageByID: got %s, want %s", step, asJSON(got), asJSON(&want))
		}
		prod, err := db.Product(ctx, "mug")
		if err != nil {
			t.Fatal(err)
		}
		if len(prod.Images) != 1 || !reflect.DeepEqual(prod.Images[0].Renditions, want.Renditions) {
			t.Errorf("%s: Product.Images: got %s, want renditions %s", step, asJSON(prod.Images), asJSON(want.Renditions))
		}
	}
	wantImage("first save")
	wantDeleteJobs(t, pool)

	// A second run with the same files replaces nothing.
	if err := db.SaveRenditions(ctx, img.ID, img.Key, vitrine.RenderedImage{Renditions: []vitrine.Rendition{thumb, medium}}); err != nil {
		t.Fatal(err)
	}
	wantImage("same renditions again")
	wantDeleteJobs(t, pool)

	// A new key for one name replaces that row and deletes its old file.
	thumb2 := rendition("thumbnail")
	thumb2.Width = 100
	if err := db.SaveRenditions(ctx, img.ID, img.Key, vitrine.RenderedImage{Renditions: []vitrine.Rendition{thumb2, medium}}); err != nil {
		t.Fatal(err)
	}
	want.Renditions = []vitrine.Rendition{medium, thumb2}
	wantImage("new thumbnail key")
	wantDeleteJobs(t, pool, []string{thumb.Key})

	// Placeholder data is recorded.
	if err := db.SaveRenditions(ctx, img.ID, img.Key, vitrine.RenderedImage{
		Renditions:  []vitrine.Rendition{thumb2},
		Placeholder: "3wcKNZqAh4eAiHeIeHiHiICACPh3", DominantColor: "#7838c8",
	}); err != nil {
		t.Fatal(err)
	}
	want.Placeholder, want.DominantColor = "3wcKNZqAh4eAiHeIeHiHiICACPh3", "#7838c8"
	wantImage("placeholder")
	wantDeleteJobs(t, pool, []string{thumb.Key})

	// An obsolete rendition goes with its file; unknown names are ignored.
	if err := db.RemoveRenditions(ctx, img.ID, []string{"medium", "never-existed"}); err != nil {
		t.Fatal(err)
	}
	want.Renditions = []vitrine.Rendition{thumb2}
	wantImage("obsolete medium")
	wantDeleteJobs(t, pool, []string{thumb.Key}, []string{medium.Key})
}

func TestImagesAfter(t *testing.T) {
	t.Parallel()
	_, db, _ := open(t)
	ctx := context.Background()
	a := newProduct(t, db, "a")
	b := newProduct(t, db, "b")
	ia := addImages(t, db, a.ID, 3)
	ib := addImages(t, db, b.ID, 2)
	var all []int64
	for after := int64(0); ; {
		page, err := db.ImagesAfter(ctx, "", after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, ids(page)...)
		after = page[len(page)-1].ID
	}
	if want := append(ids(ia), ids(ib)...); !slices.Equal(all, want) {
		t.Fatalf("all pages: got %v, want %v", all, want)
	}
	only, err := db.ImagesAfter(ctx, "b", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(only), ids(ib)) {
		t.Fatalf("product b: got %v, want %v", ids(only), ids(ib))
	}
}

// TestSaveRenditionsSubset saves fewer renditions than the image has: the
// ones not named stay recorded, so their files must stay too.
func TestSaveRenditionsSubset(t *testing.T) {
	t.Parallel()
	pool, db, _ := open(t)
	ctx := context.Background()
	p := newProduct(t, db, "mug")
	img := addImages(t, db, p.ID, 1)[0]
	thumb, medium := rendition("thumbnail"), rendition("medium")
	if err := db.SaveRenditions(ctx, img.ID, img.Key, vitrine.RenderedImage{Renditions: []vitrine.Rendition{thumb, medium}}); err != nil {
		t.Fatal(err)
	}
	thumb2 := rendition("thumbnail")
	if err := db.SaveRenditions(ctx, img.ID, img.Key, vitrine.RenderedImage{Renditions: []vitrine.Rendition{thumb2}}); err != nil {
		t.Fatal(err)
	}
	got, err := db.ImageByID(ctx, img.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := []vitrine.Rendition{medium, thumb2}; !slices.Equal(got.Renditions, want) {
		t.Errorf("renditions: got %v, want %v", got.Renditions, want)
	}
	wantDeleteJobs(t, pool, []string{thumb.Key})
}

func TestSaveRenditionsNotFound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prepare func(t *testing.T, db *sqldb.DB, img *vitrine.Image) (id int64, originalKey string)
	}{
		{"image deleted", func(t *testing.T, db *sqldb.DB, img *vitrine.Image) (int64, string) {
			if _, err := db.DeleteImage(context.Background(), img.ProductID, img.ID); err != nil {
				t.Fatal(err)
			}
			return img.ID, img.Key
		}},
		{"product deleted", func(t *testing.T, db *sqldb.DB, img *vitrine.Image) (int64, string) {
			if _, err := db.DeleteProduct(context.Background(), "mug"); err != nil {
				t.Fatal(err)
			}
			return img.ID, img.Key
		}},
		{"unknown image", func(t *testing.T, db *sqldb.DB, img *vitrine.Image) (int64, string) {
			return img.ID + 100, img.Key
		}},
		{"other original", func(t *testing.T, db *sqldb.DB, img *vitrine.Image) (int64, string) {
			return img.ID, newKey()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pool, db, _ := open(t)
			p := newProduct(t, db, "mug")
			img := addImages(t, db, p.ID, 1)[0]
			id, key := tt.prepare(t, db, img)
			jobsBefore := deleteJobs(t, pool)

			err := db.SaveRenditions(context.Background(), id, key, vitrine.RenderedImage{Renditions: []vitrine.Rendition{rendition("thumbnail")}})
			wantKind(t, err, vitrine.NotFound)
			if n := count(t, pool, `SELECT count(*) FROM renditions`); n != 0 {
				t.Errorf("renditions: got %d, want 0", n)
			}
			if n := count(t, pool, `SELECT count(*) FROM images WHERE status = 'ready'`); n != 0 {
				t.Errorf("ready images: got %d, want 0", n)
			}
			wantDeleteJobs(t, pool, jobsBefore...)
		})
	}
}

func TestFailImage(t *testing.T) {
	t.Parallel()
	_, db, _ := open(t)
	ctx := context.Background()
	p := newProduct(t, db, "mug")
	imgs := addImages(t, db, p.ID, 2)
	if err := db.FailImage(ctx, imgs[0].ID, "Cannot decode the image."); err != nil {
		t.Fatalf("FailImage: got %v, want nil", err)
	}
	got := mustImages(t, db, p.ID)
	if got[0].Status != vitrine.StatusFailed || got[0].Error != "Cannot decode the image." {
		t.Errorf("failed image: got %q, %q, want %q, %q", got[0].Status, got[0].Error, vitrine.StatusFailed, "Cannot decode the image.")
	}
	if got[1].Status != vitrine.StatusPending || got[1].Error != "" {
		t.Errorf("other image: got %q, %q, want %q, \"\"", got[1].Status, got[1].Error, vitrine.StatusPending)
	}
	// A missing image is not an error.
	if err := db.FailImage(ctx, imgs[1].ID+100, "gone"); err != nil {
		t.Errorf("FailImage of a missing image: got %v, want nil", err)
	}
}
