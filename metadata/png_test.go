package metadata_test

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image/png"
	"slices"
	"testing"

	"github.com/vitrine/vitrine"
	"github.com/vitrine/vitrine/metadata"
)

const pngSignature = "\x89PNG\r\n\x1a\n"

// encodePNG returns a PNG as image/png writes it: IHDR, IDAT and IEND.
func encodePNG(tb testing.TB) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, gradient(16, 12)); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// pngChunk returns a chunk with its length and CRC.
func pngChunk(typ string, data []byte) []byte {
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(c, typ...)
	c = append(c, data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

// deflate returns s compressed with zlib, as zTXt, iTXt and iCCP hold it.
func deflate(s string) string {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write([]byte(s))
	w.Close()
	return buf.String()
}

// pngChunkInfo is one chunk of a PNG file.
type pngChunkInfo struct {
	typ   string
	data  []byte
	raw   []byte // the whole chunk, length to CRC
	crcOK bool
}

// pngChunks returns the chunks of a cleaned PNG, which must end at IEND.
func pngChunks(t testing.TB, data []byte) []pngChunkInfo {
	t.Helper()
	if !bytes.HasPrefix(data, []byte(pngSignature)) {
		t.Fatalf("no PNG signature: %q", clip(data))
	}
	var chunks []pngChunkInfo
	for rest := data[len(pngSignature):]; ; {
		if len(rest) < 12 {
			t.Fatalf("chunk cut short: %q", rest)
		}
		n := int64(binary.BigEndian.Uint32(rest[0:4]))
		if 12+n > int64(len(rest)) {
			t.Fatalf("chunk %q of %d bytes runs past the end", rest[4:8], n)
		}
		c := pngChunkInfo{typ: string(rest[4:8]), data: rest[8 : 8+n], raw: rest[:12+n]}
		c.crcOK = binary.BigEndian.Uint32(rest[8+n:]) == crc32.ChecksumIEEE(rest[4:8+n])
		chunks = append(chunks, c)
		rest = rest[12+n:]
		if c.typ == "IEND" {
			if len(rest) > 0 {
				t.Fatalf("%d bytes after IEND", len(rest))
			}
			return chunks
		}
	}
}

// phonePNG wraps the chunks of plain (a PNG without metadata) in text,
// time and EXIF chunks, with EXIF orientation o and the colour chunks
// iCCP and pHYs. It returns the file and what Clean must make of it.
func phonePNG(t testing.TB, plain []byte, o uint16) (in, want []byte) {
	chunks := pngChunks(t, plain)
	ihdr, iend := chunks[0].raw, chunks[len(chunks)-1].raw
	var idat []byte
	for _, c := range chunks[1 : len(chunks)-1] {
		idat = append(idat, c.raw...)
	}
	iccp := pngChunk("iCCP", []byte("Display P3\x00\x00"+deflate("fake ICC profile")))
	phys := pngChunk("pHYs", []byte("\x00\x00\x0b\x13\x00\x00\x0b\x13\x01"))
	in = slices.Concat(
		[]byte(pngSignature), ihdr, iccp, phys,
		pngChunk("tEXt", []byte("Comment\x00"+commentText)),
		pngChunk("tEXt", []byte("Software\x00"+software)),
		pngChunk("zTXt", []byte("Description\x00\x00"+deflate(cameraSerial))),
		pngChunk("iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00"+xmpPacket())),
		pngChunk("eXIf", cameraTIFF(binary.BigEndian, o)),
		pngChunk("tIME", []byte("\x07\xe8\x05\x01\x0c\x00\x00")),
		pngChunk("prVt", []byte(cameraModel)),
		idat,
		pngChunk("tEXt", []byte("Author\x00"+cameraMake)),
		iend,
	)
	var orient []byte
	if o >= 2 && o <= 8 {
		orient = pngChunk("eXIf", minimalTIFF(o))
	}
	want = slices.Concat([]byte(pngSignature), ihdr, iccp, phys, orient, idat, iend)
	return in, want
}

var phonePNGRemoved = []string{"tEXt", "zTXt", "iTXt", "eXIf", "tIME", "prVt"}

func TestCleanPNG(t *testing.T) {
	t.Parallel()
	plain := encodePNG(t)
	phone6, want6 := phonePNG(t, plain, 6)
	phone1, want1 := phonePNG(t, plain, 1)
	chunks := pngChunks(t, plain)
	ihdr, rest := chunks[0].raw, plain[len(pngSignature)+len(chunks[0].raw):]
	exif := func(tiff []byte) []byte { return pngChunk("eXIf", tiff) }
	tests := []struct {
		name string
		in   []byte
		want []byte
		res  metadata.Result
	}{
		{"phone image, orientation 6", phone6, want6, metadata.Result{Orientation: 6, Removed: phonePNGRemoved}},
		{"orientation 1 writes no eXIf", phone1, want1, metadata.Result{Orientation: 1, Removed: phonePNGRemoved}},
		{"no metadata", plain, plain, metadata.Result{Orientation: 1}},
		{
			"trailer after IEND",
			slices.Concat(phone6, []byte(trailerText)),
			want6,
			metadata.Result{Orientation: 6, Removed: append(slices.Clone(phonePNGRemoved), "trailer")},
		},
		{
			"eXIf with an Exif header, little endian",
			slices.Concat([]byte(pngSignature), ihdr, exif(append([]byte("Exif\x00\x00"), cameraTIFF(binary.LittleEndian, 5)...)), rest),
			slices.Concat([]byte(pngSignature), ihdr, exif(minimalTIFF(5)), rest),
			metadata.Result{Orientation: 5, Removed: []string{"eXIf"}},
		},
		{
			"first eXIf wins",
			slices.Concat([]byte(pngSignature), ihdr, exif(cameraTIFF(binary.BigEndian, 1)), exif(cameraTIFF(binary.BigEndian, 6)), rest),
			plain,
			metadata.Result{Orientation: 1, Removed: []string{"eXIf"}},
		},
		{
			"unknown critical chunk is kept",
			slices.Concat([]byte(pngSignature), ihdr, pngChunk("CgBI", []byte{0, 1}), rest),
			slices.Concat([]byte(pngSignature), ihdr, pngChunk("CgBI", []byte{0, 1}), rest),
			metadata.Result{Orientation: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := checkClean(t, vitrine.PNG, tt.in, tt.want, tt.res)
			samePixels(t, tt.in, out)
		})
	}
}

func TestCleanPNGInvalid(t *testing.T) {
	t.Parallel()
	plain := encodePNG(t)
	phone, _ := phonePNG(t, plain, 6)
	chunks := pngChunks(t, plain)
	ihdr, rest := chunks[0].raw, plain[len(pngSignature)+len(chunks[0].raw):]
	header := func(n uint32, typ string) []byte {
		return append(binary.BigEndian.AppendUint32(nil, n), typ...)
	}
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"bad signature", slices.Concat([]byte("\x89PNG\r\n\x1a\x00"), plain[8:])},
		{"first chunk not IHDR", slices.Concat([]byte(pngSignature), pngChunk("tEXt", []byte("a\x00b")), plain[8:])},
		{"bad chunk type", slices.Concat([]byte(pngSignature), ihdr, pngChunk("te1t", nil), rest)},
		{"chunk length over 2^31-1", slices.Concat([]byte(pngSignature), ihdr, header(1<<31, "tEXt"), rest)},
		{"eXIf over 16 MiB", slices.Concat([]byte(pngSignature), ihdr, header(16<<20+1, "eXIf"), rest)},
		{"chunk past the end", slices.Concat([]byte(pngSignature), ihdr, header(1000, "IDAT"), []byte("short"))},
		{"no IEND", plain[:len(plain)-12]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := metadata.Clean(&bytes.Buffer{}, bytes.NewReader(tt.in), vitrine.PNG)
			checkInvalid(t, err)
		})
	}
	t.Run("every truncation", func(t *testing.T) {
		t.Parallel()
		for n := range len(phone) {
			_, err := metadata.Clean(&bytes.Buffer{}, bytes.NewReader(phone[:n]), vitrine.PNG)
			checkInvalid(t, err)
		}
	})
}

func FuzzCleanPNG(f *testing.F) {
	plain := encodePNG(f)
	phone, _ := phonePNG(f, plain, 6)
	f.Add(plain)
	f.Add(phone)
	f.Add(slices.Concat(phone, []byte(trailerText)))
	f.Add(slices.Concat([]byte(pngSignature), pngChunk("IHDR", nil), pngChunk("eXIf", minimalTIFF(2)), pngChunk("CgBI", nil), pngChunk("IEND", nil)))
	f.Fuzz(func(t *testing.T, in []byte) {
		fuzzClean(t, vitrine.PNG, in)
	})
}
