package sqldb_test

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/vitrine/vitrine"
	"github.com/vitrine/vitrine/sqldb"
	"github.com/vitrine/vitrine/sqldb/sqldbtest"
)

// wantProduct checks that the stored product with this slug is want.
func wantProduct(t *testing.T, db *sqldb.DB, slug vitrine.Slug, want *vitrine.Product) {
	t.Helper()
	got, err := db.Product(context.Background(), slug)
	if err != nil {
		t.Fatalf("Product(%s): %v", slug, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Product(%s): got %s, want %s", slug, asJSON(got), asJSON(want))
	}
}

func TestCreateProduct(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    vitrine.Product
	}{
		{"minimal", vitrine.Product{Name: "Mug", Slug: "mug"}},
		{"no price", vitrine.Product{Name: "Mug", Slug: "mug", Description: "A mug.", Price: nil}},
		{"zero price", vitrine.Product{Name: "Mug", Slug: "mug", Price: new(vitrine.Price(0))}},
		{"price", vitrine.Product{Name: "Mug", Slug: "mug", Price: new(vitrine.Price(1999))}},
		{"largest price", vitrine.Product{Name: "Mug", Slug: "mug", Price: new(vitrine.Price(99999999_99))}},
		{"image", vitrine.Product{Name: "Mug", Slug: "mug", Price: new(vitrine.Price(500)),
			ImageKey: "products/2026/03/04/0f8e7a6b-1c2d-4e3f-8a9b-0c1d2e3f4a5b.jpg", ImageWidth: 800, ImageHeight: 600}},
		{"unicode", vitrine.Product{Name: "Tasse à café ☕", Slug: "Tasse_1", Description: "Zeilen\nmit \"Zeichen\" '; --"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, db, _ := open(t)
			p := tt.p
			if err := db.CreateProduct(context.Background(), &p); err != nil {
				t.Fatalf("CreateProduct: got %v, want nil", err)
			}
			if p.ID == 0 {
				t.Errorf("ID: got 0, want it set")
			}
			wantTime(t, "CreatedAt", p.CreatedAt, stored(start))
			wantTime(t, "UpdatedAt", p.UpdatedAt, stored(start))

			want := p
			want.Images = []*vitrine.Image{}
			wantProduct(t, db, p.Slug, &want)

			id, err := db.ProductID(context.Background(), p.Slug)
			if err != nil || id != p.ID {
				t.Errorf("ProductID: got %d, %v, want %d, nil", id, err, p.ID)
			}
		})
	}
}

func TestCreateProductSlugTaken(t *testing.T) {
	t.Parallel()
	pool, db, _ := open(t)
	newProduct(t, db, "mug")
	err := db.CreateProduct(context.Background(), &vitrine.Product{Name: "Other", Slug: "mug"})
	e := wantKind(t, err, vitrine.Conflict)
	if len(e.Fields["slug"]) != 1 {
		t.Errorf("Fields: got %v, want one message for slug", e.Fields)
	}
	if n := count(t, pool, `SELECT count(*) FROM products`); n != 1 {
		t.Errorf("products: got %d, want 1", n)
	}
}

func TestProductNotFound(t *testing.T) {
	t.Parallel()
	_, db, _ := open(t)
	newProduct(t, db, "mug")
	ctx := context.Background()
	_, err := db.Product(ctx, "cup")
	wantKind(t, err, vitrine.NotFound)
	_, err = db.ProductID(ctx, "cup")
	wantKind(t, err, vitrine.NotFound)
	// Slugs are looked up exactly.
	_, err = db.Product(ctx, "MUG")
	wantKind(t, err, vitrine.NotFound)
}

// slugs returns the slugs of ps, in order.
func slugs(ps []*vitrine.Product) []vitrine.Slug {
	out := make([]vitrine.Slug, len(ps))
	for i, p := range ps {
		out[i] = p.Slug
	}
	return out
}

func TestProductsPages(t *testing.T) {
	t.Parallel()
	_, db, clk := open(t)
	for _, s := range []string{"a", "b", "c", "d", "e"} {
		newProduct(t, db, s)
		clk.Advance(time.Second)
	}
	tests := []struct {
		name           string
		page, pageSize int
		want           []vitrine.Slug
	}{
		{"first page", 1, 2, []vitrine.Slug{"e", "d"}},
		{"second page", 2, 2, []vitrine.Slug{"c", "b"}},
		{"last, short page", 3, 2, []vitrine.Slug{"a"}},
		{"past the end", 4, 2, []vitrine.Slug{}},
		{"one page holds all", 1, 100, []vitrine.Slug{"e", "d", "c", "b", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ps, total, err := db.Products(context.Background(), vitrine.ProductQuery{Page: tt.page, PageSize: tt.pageSize})
			if err != nil {
				t.Fatal(err)
			}
			if got := slugs(ps); !slices.Equal(got, tt.want) {
				t.Errorf("slugs: got %v, want %v", got, tt.want)
			}
			if total != 5 {
				t.Errorf("total: got %d, want 5", total)
			}
		})
	}
}

func TestProductsSearch(t *testing.T) {
	t.Parallel()
	_, db, clk := open(t)
	for _, p := range []struct{ name, slug string }{
		{"Red Shirt", "red-shirt"},
		{"Blue Mug", "blue-mug"},
		{"100% Cotton", "cotton"},
		{"Tea Pot", "tea_pot"},
		{"Coffee Cup", "cup-XL"},
	} {
		if err := db.CreateProduct(context.Background(), &vitrine.Product{Name: p.name, Slug: vitrine.Slug(p.slug)}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
	}
	tests := []struct {
		name   string
		search string
		want   []vitrine.Slug
	}{
		{"empty matches all", "", []vitrine.Slug{"cup-XL", "tea_pot", "cotton", "blue-mug", "red-shirt"}},
		{"name substring", "shirt", []vitrine.Slug{"red-shirt"}},
		{"upper case", "SHIRT", []vitrine.Slug{"red-shirt"}},
		{"mixed case", "bLuE m", []vitrine.Slug{"blue-mug"}},
		{"slug only", "xl", []vitrine.Slug{"cup-XL"}},
		{"slug hyphen", "-mug", []vitrine.Slug{"blue-mug"}},
		{"several", "u", []vitrine.Slug{"cup-XL", "blue-mug"}},
		{"percent is literal", "%", []vitrine.Slug{"cotton"}},
		{"percent inside", "0% c", []vitrine.Slug{"cotton"}},
		{"underscore is literal", "_", []vitrine.Slug{"tea_pot"}},
		{"underscore not a wildcard", "a_p", []vitrine.Slug{"tea_pot"}},
		{"backslash is literal", `\`, []vitrine.Slug{}},
		{"quote", `'`, []vitrine.Slug{}},
		{"no match", "sofa", []vitrine.Slug{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ps, total, err := db.Products(context.Background(), vitrine.ProductQuery{Page: 1, PageSize: 10, Search: tt.search})
			if err != nil {
				t.Fatal(err)
			}
			if got := slugs(ps); !slices.Equal(got, tt.want) {
				t.Errorf("Search %q: got %v, want %v", tt.search, got, tt.want)
			}
			if total != len(tt.want) {
				t.Errorf("Search %q: total: got %d, want %d", tt.search, total, len(tt.want))
			}
		})
	}
}

func TestProductsSearchNonASCII(t *testing.T) {
	t.Parallel()
	_, db, _ := open(t)
	if err := db.CreateProduct(context.Background(), &vitrine.Product{Name: "Élan Vital", Slug: "elan"}); err != nil {
		t.Fatal(err)
	}
	for _, search := range []string{"Élan", "élan Vital"} {
		ps, total, err := db.Products(context.Background(), vitrine.ProductQuery{Page: 1, PageSize: 10, Search: search})
		if err != nil {
			t.Fatal(err)
		}
		if got := slugs(ps); !slices.Equal(got, []vitrine.Slug{"elan"}) || total != 1 {
			t.Errorf("Search %q: got %v (total %d), want [elan] (total 1)", search, got, total)
		}
	}
}

func TestProductsOrdering(t *testing.T) {
	t.Parallel()
	_, db, clk := open(t)
	// Created in this order, a second apart, except "d", which has the same
	// time as "c", so that id breaks the tie.
	for _, p := range []struct {
		slug, name string
		price      vitrine.Price
		advance    time.Duration
	}{
		{"b", "Banana", 300, time.Second},
		{"a", "apple", 200, time.Second},
		{"c", "Cherry", 100, 0},
		{"d", "date", 400, time.Second},
	} {
		if err := db.CreateProduct(context.Background(), &vitrine.Product{Name: p.name, Slug: vitrine.Slug(p.slug), Price: new(p.price)}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(p.advance)
	}
	tests := []struct {
		ordering string
		want     []vitrine.Slug
	}{
		{"", []vitrine.Slug{"d", "c", "a", "b"}},
		{"-created_at", []vitrine.Slug{"d", "c", "a", "b"}},
		{"created_at", []vitrine.Slug{"b", "a", "c", "d"}},
		// SQLite compares text byte-wise: capitals sort before lower case.
		{"name", []vitrine.Slug{"b", "c", "a", "d"}},
		{"-name", []vitrine.Slug{"d", "a", "c", "b"}},
		{"price", []vitrine.Slug{"c", "a", "b", "d"}},
		{"-price", []vitrine.Slug{"d", "b", "a", "c"}},
		{"id", []vitrine.Slug{"b", "a", "c", "d"}},
		{"-id", []vitrine.Slug{"d", "c", "a", "b"}},
	}
	for _, tt := range tests {
		t.Run("ordering "+tt.ordering, func(t *testing.T) {
			t.Parallel()
			ps, _, err := db.Products(context.Background(), vitrine.ProductQuery{Page: 1, PageSize: 10, Ordering: tt.ordering})
			if err != nil {
				t.Fatal(err)
			}
			if got := slugs(ps); !slices.Equal(got, tt.want) {
				t.Errorf("Ordering %q: got %v, want %v", tt.ordering, got, tt.want)
			}
		})
	}
	t.Run("unknown ordering", func(t *testing.T) {
		t.Parallel()
		_, _, err := db.Products(context.Background(), vitrine.ProductQuery{Page: 1, PageSize: 10, Ordering: "slug"})
		wantKind(t, err, vitrine.Invalid)
	})
}

func TestProductsGalleries(t *testing.T) {
	t.Parallel()
	_, db, clk := open(t)
	ctx := context.Background()
	withImages := newProduct(t, db, "with-images")
	clk.Advance(time.Second)
	newProduct(t, db, "empty")
	clk.Advance(time.Second)
	other := newProduct(t, db, "other")

	// Added in one order, displayed in another.
	imgs := []*vitrine.Image{newImage(), newImage(), newImage()}
	for i, order := range []int{2, 0, 1} {
		imgs[i].Order = order
	}
	if _, err := db.AddImages(ctx, withImages.ID, imgs, false, 10); err != nil {
		t.Fatal(err)
	}
	otherImgs := addImages(t, db, other.ID, 1)
	r := rendition("thumbnail")
	if err := db.SaveRenditions(ctx, imgs[1].ID, imgs[1].Key, vitrine.RenderedImage{Renditions: []vitrine.Rendition{r}}); err != nil {
		t.Fatal(err)
	}

	ps, _, err := db.Products(ctx, vitrine.ProductQuery{Page: 1, PageSize: 10, Ordering: "created_at"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := slugs(ps), []vitrine.Slug{"with-images", "empty", "other"}; !slices.Equal(got, want) {
		t.Fatalf("slugs: got %v, want %v", got, want)
	}
	wantIDs := [][]int64{{imgs[1].ID, imgs[2].ID, imgs[0].ID}, {}, {otherImgs[0].ID}}
	for i, p := range ps {
		if p.Images == nil {
			t.Errorf("%s: Images is nil, want an empty slice at least", p.Slug)
		}
		if got := ids(p.Images); !slices.Equal(got, wantIDs[i]) {
			t.Errorf("%s: image ids: got %v, want %v", p.Slug, got, wantIDs[i])
		}
	}
	if got := ps[0].Images[0].Renditions; !slices.Equal(got, []vitrine.Rendition{r}) {
		t.Errorf("renditions: got %v, want %v", got, []vitrine.Rendition{r})
	}

	// Product reads the same gallery.
	p, err := db.Product(ctx, "with-images")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Images, ps[0].Images) {
		t.Errorf("Product gallery: got %s, want %s", asJSON(p.Images), asJSON(ps[0].Images))
	}
}

// baseProduct is the product every UpdateProduct case starts from.
func baseProduct() vitrine.Product {
	return vitrine.Product{
		Name: "Mug", Slug: "mug", Description: "A mug.", Price: new(vitrine.Price(500)),
		ImageKey: "products/2026/03/04/11111111-1111-4111-8111-111111111111.jpg", ImageWidth: 300, ImageHeight: 200,
	}
}

func TestUpdateProduct(t *testing.T) {
	t.Parallel()
	const replacement = "products/2026/03/05/22222222-2222-4222-8222-222222222222.png"
	tests := []struct {
		name       string
		ch         vitrine.ProductChange
		want       func(p *vitrine.Product)
		wantDelete [][]string // keys of the delete jobs enqueued
	}{
		{"nothing", vitrine.ProductChange{}, func(p *vitrine.Product) {}, nil},
		{"name", vitrine.ProductChange{Name: new("Big Mug")}, func(p *vitrine.Product) { p.Name = "Big Mug" }, nil},
		{"slug", vitrine.ProductChange{Slug: new(vitrine.Slug("big-mug"))}, func(p *vitrine.Product) { p.Slug = "big-mug" }, nil},
		{"same slug", vitrine.ProductChange{Slug: new(vitrine.Slug("mug"))}, func(p *vitrine.Product) {}, nil},
		{"description", vitrine.ProductChange{Description: new("")}, func(p *vitrine.Product) { p.Description = "" }, nil},
		{"set price", vitrine.ProductChange{SetPrice: true, Price: new(vitrine.Price(1999))},
			func(p *vitrine.Product) { p.Price = new(vitrine.Price(1999)) }, nil},
		{"clear price", vitrine.ProductChange{SetPrice: true, Price: nil}, func(p *vitrine.Product) { p.Price = nil }, nil},
		{"price without SetPrice", vitrine.ProductChange{Price: new(vitrine.Price(1))}, func(p *vitrine.Product) {}, nil},
		{"image without SetImage", vitrine.ProductChange{Image: &vitrine.File{Key: replacement, Width: 1, Height: 1}},
			func(p *vitrine.Product) {}, nil},
		{"replace image", vitrine.ProductChange{SetImage: true, Image: &vitrine.File{Key: replacement, Format: vitrine.PNG, Width: 400, Height: 300, Bytes: 1000}},
			func(p *vitrine.Product) { p.ImageKey, p.ImageWidth, p.ImageHeight = replacement, 400, 300 },
			[][]string{{baseProduct().ImageKey}}},
		{"remove image", vitrine.ProductChange{SetImage: true, Image: nil},
			func(p *vitrine.Product) { p.ImageKey, p.ImageWidth, p.ImageHeight = "", 0, 0 },
			[][]string{{baseProduct().ImageKey}}},
		{"same image key", vitrine.ProductChange{SetImage: true, Image: &vitrine.File{Key: baseProduct().ImageKey, Width: 30, Height: 20}},
			func(p *vitrine.Product) { p.ImageWidth, p.ImageHeight = 30, 20 }, nil},
		{"several fields", vitrine.ProductChange{Name: new("Cup"), Slug: new(vitrine.Slug("cup")), SetPrice: true, SetImage: true},
			func(p *vitrine.Product) {
				p.Name, p.Slug, p.Price = "Cup", "cup", nil
				p.ImageKey, p.ImageWidth, p.ImageHeight = "", 0, 0
			},
			[][]string{{baseProduct().ImageKey}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pool, db, clk := open(t)
			ctx := context.Background()
			p := baseProduct()
			if err := db.CreateProduct(ctx, &p); err != nil {
				t.Fatal(err)
			}
			clk.Advance(time.Hour)

			got, _, err := db.UpdateProduct(ctx, "mug", tt.ch)
			if err != nil {
				t.Fatalf("UpdateProduct: got %v, want nil", err)
			}
			want := p
			tt.want(&want)
			want.UpdatedAt = stored(start.Add(time.Hour))
			want.Images = []*vitrine.Image{}
			if !reflect.DeepEqual(got, &want) {
				t.Errorf("returned: got %s, want %s", asJSON(got), asJSON(&want))
			}
			wantProduct(t, db, want.Slug, &want)
			wantDeleteJobs(t, pool, tt.wantDelete...)
			if want.Slug != "mug" {
				_, err := db.Product(ctx, "mug")
				wantKind(t, err, vitrine.NotFound)
			}
		})
	}
}

func TestUpdateProductUpdatedAt(t *testing.T) {
	t.Parallel()
	// With the real clock: UpdatedAt never goes back before CreatedAt.
	_, db := sqldbtest.Open(t)
	p := &vitrine.Product{Name: "Mug", Slug: "mug"}
	if err := db.CreateProduct(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	got, _, err := db.UpdateProduct(context.Background(), "mug", vitrine.ProductChange{Name: new("Cup")})
	if err != nil {
		t.Fatal(err)
	}
	if got.UpdatedAt.Before(got.CreatedAt) || !got.CreatedAt.Equal(p.CreatedAt) {
		t.Errorf("got CreatedAt %v, UpdatedAt %v, want CreatedAt %v <= UpdatedAt", got.CreatedAt, got.UpdatedAt, p.CreatedAt)
	}
}

func TestUpdateProductSlugTaken(t *testing.T) {
	t.Parallel()
	pool, db, clk := open(t)
	ctx := context.Background()
	p := baseProduct()
	if err := db.CreateProduct(ctx, &p); err != nil {
		t.Fatal(err)
	}
	newProduct(t, db, "cup")
	clk.Advance(time.Hour)

	_, _, err := db.UpdateProduct(ctx, "mug", vitrine.ProductChange{
		Name: new("Cup"), Slug: new(vitrine.Slug("cup")), SetImage: true,
		Image: &vitrine.File{Key: "products/2026/03/05/33333333-3333-4333-8333-333333333333.jpg", Width: 1, Height: 1},
	})
	e := wantKind(t, err, vitrine.Conflict)
	if len(e.Fields["slug"]) != 1 {
		t.Errorf("Fields: got %v, want one message for slug", e.Fields)
	}
	// Nothing changed, and the old image is not deleted.
	want := p
	want.Images = []*vitrine.Image{}
	wantProduct(t, db, "mug", &want)
	wantDeleteJobs(t, pool)
}

func TestUpdateProductNotFound(t *testing.T) {
	t.Parallel()
	pool, db, _ := open(t)
	newProduct(t, db, "mug")
	_, _, err := db.UpdateProduct(context.Background(), "cup", vitrine.ProductChange{Name: new("Cup"), SetImage: true})
	wantKind(t, err, vitrine.NotFound)
	wantDeleteJobs(t, pool)
}

func TestDeleteProduct(t *testing.T) {
	t.Parallel()
	pool, db, _ := open(t)
	ctx := context.Background()
	p := baseProduct()
	if err := db.CreateProduct(ctx, &p); err != nil {
		t.Fatal(err)
	}
	imgs := addImages(t, db, p.ID, 3)
	var rendKeys []string
	for _, img := range imgs[:2] {
		rs := []vitrine.Rendition{rendition("thumbnail"), rendition("medium")}
		if err := db.SaveRenditions(ctx, img.ID, img.Key, vitrine.RenderedImage{Renditions: rs}); err != nil {
			t.Fatal(err)
		}
		rendKeys = append(rendKeys, rs[0].Key, rs[1].Key)
	}
	// Another product that must stay whole.
	other := newProduct(t, db, "other")
	otherImgs := addImages(t, db, other.ID, 1)
	if err := db.SaveRenditions(ctx, otherImgs[0].ID, otherImgs[0].Key, vitrine.RenderedImage{Renditions: []vitrine.Rendition{rendition("thumbnail")}}); err != nil {
		t.Fatal(err)
	}
	wantDeleteJobs(t, pool)

	dropped, err := db.DeleteProduct(ctx, "mug")
	if err != nil {
		t.Fatalf("DeleteProduct: got %v, want nil", err)
	}
	want := append([]string{p.ImageKey, imgs[0].Key, imgs[1].Key, imgs[2].Key}, rendKeys...)
	wantDeleteJobs(t, pool, want)
	if got, wantSorted := slices.Sorted(slices.Values(dropped)), slices.Sorted(slices.Values(want)); !slices.Equal(got, wantSorted) {
		t.Errorf("dropped: got %v, want %v", got, wantSorted)
	}

	_, err = db.Product(ctx, "mug")
	wantKind(t, err, vitrine.NotFound)
	// Only the other product's rows are left.
	for _, table := range []string{"products", "images", "renditions"} {
		if got := count(t, pool, `SELECT count(*) FROM `+table); got != 1 {
			t.Errorf("%s rows: got %d, want 1", table, got)
		}
	}
	if _, err := db.ImageByID(ctx, otherImgs[0].ID); err != nil {
		t.Errorf("other product's image: got %v, want it kept", err)
	}

	_, err = db.DeleteProduct(ctx, "mug")
	wantKind(t, err, vitrine.NotFound)
	wantDeleteJobs(t, pool, want)
}

func TestDeleteProductWithoutFiles(t *testing.T) {
	t.Parallel()
	pool, db, _ := open(t)
	newProduct(t, db, "mug")
	if _, err := db.DeleteProduct(context.Background(), "mug"); err != nil {
		t.Fatalf("DeleteProduct: got %v, want nil", err)
	}
	wantDeleteJobs(t, pool) // nothing to delete, no job
	if n := count(t, pool, `SELECT count(*) FROM products`); n != 0 {
		t.Errorf("products: got %d, want 0", n)
	}
}
