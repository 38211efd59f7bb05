package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vitrine/vitrine"
	"github.com/vitrine/vitrine/vips"
)

// corpusFile is one original of the corpus, its bytes held in memory so
// that no timed call reads the disk.
type corpusFile struct {
	Name   string
	Path   string
	Format vitrine.Format
	Width  int
	Height int
	Data   []byte
}

// MP is the size in megapixels.
func (f corpusFile) MP() float64 { return float64(f.Width*f.Height) / 1e6 }

// loadCorpus reads the files named in the checksum list from dir, in the
// order of bench/corpus.md (JPEG, PNG, WebP, each by size), keeping the first
// limit of them (0: all). vips.Init must have been called.
func loadCorpus(ctx context.Context, dir, list string, limit int) ([]corpusFile, error) {
	names, err := corpusNames(list)
	if err != nil {
		return nil, err
	}
	r := vips.NewRenderer()
	var files []corpusFile
	for _, name := range names {
		path := filepath.Join(dir, name)
		info, err := r.Probe(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("corpus file %s: %w (run bench/corpus.sh)", name, err)
		}
		files = append(files, corpusFile{Name: name, Path: path, Format: info.Format, Width: info.Width, Height: info.Height})
	}
	rank := map[vitrine.Format]int{vitrine.JPEG: 0, vitrine.PNG: 1, vitrine.WebP: 2}
	sort.SliceStable(files, func(i, j int) bool {
		a, b := files[i], files[j]
		if rank[a.Format] != rank[b.Format] {
			return rank[a.Format] < rank[b.Format]
		}
		if a.Width*a.Height != b.Width*b.Height {
			return a.Width*a.Height < b.Width*b.Height
		}
		return a.Name < b.Name
	})
	if limit > 0 && limit < len(files) {
		files = files[:limit]
	}
	for i := range files {
		if files[i].Data, err = os.ReadFile(files[i].Path); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// corpusNames reads the file names of a sha256sum list ("HASH  NAME" lines).
func corpusNames(list string) ([]string, error) {
	f, err := os.Open(list)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 2 {
			names = append(names, strings.TrimPrefix(fields[1], "*"))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s names no files", list)
	}
	return names, nil
}
