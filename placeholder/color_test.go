package placeholder

import (
	"image"
	"image/color"
	"testing"
)

// counted returns a 10x10 image whose pixels, row by row, are n[0] pixels of
// c[0], then n[1] of c[1], and so on.
func counted(c []color.NRGBA, n []int) *image.NRGBA {
	return newImage(10, 10, func(x, y int) color.NRGBA {
		i := x + 10*y
		for j := range c {
			if i < n[j] {
				return c[j]
			}
			i -= n[j]
		}
		return color.NRGBA{} // transparent, if the counts fall short
	})
}

func TestDominantColor(t *testing.T) {
	t.Parallel()
	var (
		red   = color.NRGBA{255, 0, 0, 255}
		green = color.NRGBA{0, 255, 0, 255}
		blue  = color.NRGBA{0, 0, 255, 255}
	)
	tests := []struct {
		name string
		img  *image.NRGBA
		want string
	}{
		{
			name: "more red than green, a few blue",
			img:  counted([]color.NRGBA{red, green, blue}, []int{52, 45, 3}),
			want: "#ff0000",
		},
		{
			name: "more green than red, a few blue",
			img:  counted([]color.NRGBA{red, green, blue}, []int{45, 52, 3}),
			want: "#00ff00",
		},
		{
			// Green's bucket (0x0f0) comes before red's (0xf00).
			name: "as much red as green: the lower bucket",
			img:  counted([]color.NRGBA{red, green, blue}, []int{48, 48, 4}),
			want: "#00ff00",
		},
		{
			// Three shades in red's bucket outnumber the green; their mean
			// is (3*250+242)/4 = 248, (3*4+12)/4 = 6, (3*8+0)/4 = 6.
			name: "shades in one bucket are averaged",
			img: counted(
				[]color.NRGBA{{250, 4, 8, 255}, {242, 12, 0, 255}, green},
				[]int{45, 15, 40}),
			want: "#f80606",
		},
		{
			name: "mostly transparent pixels do not count",
			img:  counted([]color.NRGBA{{0, 0, 255, 127}, red}, []int{60, 40}),
			want: "#ff0000",
		},
		{
			name: "alpha 128 counts",
			img:  counted([]color.NRGBA{{0, 0, 255, 128}, red}, []int{60, 40}),
			want: "#0000ff",
		},
		{
			name: "fully transparent",
			img:  solid(10, 10, color.NRGBA{0, 0, 0, 0}),
			want: "#ffffff",
		},
		{
			name: "empty",
			img:  image.NewNRGBA(image.Rectangle{}),
			want: "#ffffff",
		},
		{
			name: "nil",
			img:  nil,
			want: "#ffffff",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := DominantColor(tt.img); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDominantColorGradient(t *testing.T) {
	t.Parallel()
	// R runs 100..163 across and G 40..89 down, one step per pixel. The
	// fullest buckets hold 16 values of each: R 112..127 and G 48..63 is
	// the first of them, and its mean (119.5, 55.5) rounds to a colour that
	// is in the image, at (20, 16).
	img := newImage(64, 50, func(x, y int) color.NRGBA {
		return color.NRGBA{uint8(100 + x), uint8(40 + y), 200, 255}
	})
	got := DominantColor(img)
	if want := "#7838c8"; got != want {
		t.Errorf("got %v, want %v", got, want)
	}
	present := false
	for y := range 50 {
		for x := range 64 {
			present = present || hexColor(img.NRGBAAt(x, y)) == got
		}
	}
	if !present {
		t.Errorf("got %v, want a colour present in the image", got)
	}
}

func TestDominantColorSubImage(t *testing.T) {
	t.Parallel()
	// Only the pixels inside the sub-image count, though Pix holds more.
	big := newImage(20, 10, func(x, y int) color.NRGBA {
		if x < 15 {
			return color.NRGBA{255, 0, 0, 255}
		}
		return color.NRGBA{0, 0, 255, 255}
	})
	sub := big.SubImage(image.Rect(12, 2, 20, 8)).(*image.NRGBA)
	if got, want := DominantColor(sub), "#0000ff"; got != want {
		t.Errorf("got %v, want %v", got, want)
	}
}
