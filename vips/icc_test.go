package vips

import (
	"encoding/binary"
	"testing"
	"unicode/utf16"

	"github.com/vitrine/vitrine"
)

func TestICCIsSRGB(t *testing.T) {
	t.Parallel()
	mluc := func(name string) []byte { // a v4 profile's description tag
		units := utf16.Encode([]rune(name))
		tag := []byte("mluc\x00\x00\x00\x00")
		tag = binary.BigEndian.AppendUint32(tag, 1)  // one record
		tag = binary.BigEndian.AppendUint32(tag, 12) // record size
		tag = append(tag, "enUS"...)
		tag = binary.BigEndian.AppendUint32(tag, uint32(2*len(units)))
		tag = binary.BigEndian.AppendUint32(tag, 28)
		for _, u := range units {
			tag = binary.BigEndian.AppendUint16(tag, u)
		}
		return tag
	}
	withDesc := func(desc []byte) []byte { // swap the desc tag of a profile
		p := iccProfile(sRGBD50, 2.2)
		off := binary.BigEndian.Uint32(p[132+4:])
		return append(p[:off:off], append(desc, p[off+binary.BigEndian.Uint32(p[132+8:]):]...)...)
	}
	tests := []struct {
		name    string
		profile []byte
		want    bool
	}{
		{"v2 sRGB", namedICCProfile("sRGB IEC61966-2.1", sRGBD50, 2.2), true},
		{"v2 other", namedICCProfile("Display P3", displayP3, 2.2), false},
		{"v4 sRGB", withDesc(mluc("sRGB built-in")), true},
		{"v4 other", withDesc(mluc("Adobe RGB (1998)")), false},
		{"empty", nil, false},
		{"garbage", make([]byte, 300), false},
	}
	for _, tt := range tests {
		if got := iccIsSRGB(tt.profile); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestSRGBProfileSkipped: a picture tagged sRGB renders as its numbers say,
// whether its profile is converted or not.
func TestSRGBProfileSkipped(t *testing.T) {
	t.Parallel()
	src := pngWithICC(t, encodePNG(t, solid(64, 64, p3Sample)), namedICCProfile("sRGB IEC61966-2.1", sRGBD50, 2.2))
	got := renderPixels(t, src, spec("x", 32, 32, vitrine.Contain, vitrine.PNG)).NRGBAAt(16, 16)
	if !close3(got, p3Sample, 1) {
		t.Fatalf("got %v, want %v unchanged", got, p3Sample)
	}
}
