package vitrine

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Product is a catalog entry: its own single image (the note's
// Product.image) plus an ordered gallery of Images.
type Product struct {
	ID          int64
	Name        string
	Slug        Slug
	Description string
	Price       *Price // nil when the product has no price

	// The single product image; ImageKey is "" when there is none.
	ImageKey    string
	ImageWidth  int
	ImageHeight int

	CreatedAt time.Time
	UpdatedAt time.Time

	// Images is the gallery in display order; filled by reads that say so.
	Images []*Image
}

// Primary returns the gallery image marked primary, or nil.
func (p *Product) Primary() *Image {
	for _, img := range p.Images {
		if img.IsPrimary {
			return img
		}
	}
	return nil
}

// Field limits, as the note's Django model declares them.
const (
	MaxNameLen = 200 // CharField(max_length=200)
	MaxSlugLen = 50  // SlugField's default max_length
	MaxTextLen = 200 // alt_text and caption
)

// Slug identifies a product in URLs: 1 to 50 characters of [-a-zA-Z0-9_].
type Slug string

// ParseSlug checks s and returns it as a Slug. Errors carry a DRF message.
func ParseSlug(s string) (Slug, error) {
	if s == "" {
		return "", Errorf(Invalid, "This field may not be blank.")
	}
	if len(s) > MaxSlugLen {
		return "", Errorf(Invalid, "Ensure this field has no more than %d characters.", MaxSlugLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return "", Errorf(Invalid, "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens.")
		}
	}
	return Slug(s), nil
}

// CheckText validates a free-text field against a maximum length in
// characters (as Django counts them) and rejects NUL bytes, which neither
// PostgreSQL text nor most clients accept.
func CheckText(s string, maxLen int) error {
	if !utf8.ValidString(s) {
		return Errorf(Invalid, "Not a valid string.")
	}
	if strings.ContainsRune(s, 0) {
		return Errorf(Invalid, "Null characters are not allowed.")
	}
	if maxLen > 0 && utf8.RuneCountInString(s) > maxLen {
		return Errorf(Invalid, "Ensure this field has no more than %d characters.", maxLen)
	}
	return nil
}

// Price is an amount in hundredths (cents), the note's
// DecimalField(max_digits=10, decimal_places=2).
type Price int64

const (
	priceMaxDigits = 10
	pricePlaces    = 2
)

// ParsePrice reads a decimal such as "19.99", "5", "1e2" or ".5" the way
// DRF's DecimalField(max_digits=10, decimal_places=2) does: at most 2 digits
// after the point (trailing zeros do not count) and at most 8 before it.
// Negative prices, NaN, infinities and anything that is not a plain decimal
// are refused. Errors are Invalid with DRF's messages. It never allocates in
// proportion to an exponent, so "1e999999999" is cheap to refuse.
func ParsePrice(s string) (Price, error) {
	notNumber := Errorf(Invalid, "A valid number is required.")
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 100 {
		return 0, notNumber
	}
	neg := false
	if s[0] == '+' || s[0] == '-' {
		neg = s[0] == '-'
		s = s[1:]
	}
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || s[i+1:] == "" || strings.HasPrefix(s[i+1:], "+-") {
			return 0, notNumber
		}
		// Any exponent this large makes the number either 0.000... (too many
		// places) or huge (too many digits); clamp it so arithmetic stays small.
		exp = max(-1000, min(1000, e))
	}
	intPart, fracPart, _ := strings.Cut(mant, ".")
	if intPart == "" && fracPart == "" || !allDigits(intPart) || !allDigits(fracPart) {
		return 0, notNumber
	}
	// Move the decimal point by exp: digits holds every digit, point is the
	// number of digits before the point.
	digits := intPart + fracPart
	point := len(intPart) + exp
	digits = strings.TrimLeft(digits, "0")
	point -= len(intPart+fracPart) - len(digits)
	digits = strings.TrimRight(digits, "0")
	if digits == "" {
		return 0, nil // zero, including "-0"
	}
	if neg {
		return 0, Errorf(Invalid, "Ensure this value is greater than or equal to 0.")
	}
	places := len(digits) - point
	if places > pricePlaces {
		return 0, Errorf(Invalid, "Ensure that there are no more than %d decimal places.", pricePlaces)
	}
	if point > priceMaxDigits-pricePlaces {
		return 0, Errorf(Invalid, "Ensure that there are no more than %d digits before the decimal point.", priceMaxDigits-pricePlaces)
	}
	// Now at most 10 significant digits with at most 2 places: fits in int64.
	cents := digits + strings.Repeat("0", pricePlaces-places)
	n, err := strconv.ParseInt(cents, 10, 64)
	if err != nil {
		return 0, notNumber
	}
	return Price(n), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String renders p as DRF does with COERCE_DECIMAL_TO_STRING: "19.99".
func (p Price) String() string {
	return fmt.Sprintf("%d.%02d", int64(p)/100, int64(p)%100)
}

// ProductChange lists the product fields an update may change; nil fields
// stay as they are.
type ProductChange struct {
	Name        *string
	Slug        *Slug
	Description *string
	// SetPrice replaces the price with Price (nil clears it).
	SetPrice bool
	Price    *Price
	// SetImage replaces the single image with Image (nil removes it). The
	// old file is deleted once the change has committed.
	SetImage bool
	Image    *File
}

// ProductQuery selects a page of the product list.
type ProductQuery struct {
	Page     int    // 1-based
	PageSize int    // 1..100
	Search   string // case-insensitive substring of name or slug; "" for all
	// Ordering is one of "created_at", "name", "price", "id", each optionally
	// prefixed by "-" for descending. "" means "-created_at".
	Ordering string
}

// ValidOrdering reports whether ProductQuery.Ordering accepts s: "" or one
// of created_at, name, price and id, optionally prefixed by "-".
func ValidOrdering(s string) bool {
	switch strings.TrimPrefix(s, "-") {
	case "created_at", "name", "price", "id":
		return true
	}
	return s == ""
}

// Token describes an API token without its secret.
type Token struct {
	ID         int64
	User       string
	Hint       string // the first characters of the token, to recognize it
	Scope      Scope
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}
