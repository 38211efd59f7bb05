package main

import (
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vitrine/vitrine"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfigPrecedence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantAddr string
		wantDir  string
	}{
		{"defaults", nil, nil, "127.0.0.1:8000", "data"},
		{"variables", nil, map[string]string{"VITRINE_ADDR": ":9000", "VITRINE_DATA_DIR": "/srv/v"}, ":9000", "/srv/v"},
		{"flag beats variable", []string{"--addr", ":7000"}, map[string]string{"VITRINE_ADDR": ":9000"}, ":7000", "data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _, err := loadConfig("serve", tt.args, env(tt.env), io.Discard, server, nil)
			if err != nil {
				t.Fatal(err)
			}
			if c.Addr != tt.wantAddr || c.DataDir != tt.wantDir {
				t.Fatalf("got %s %s, want %s %s", c.Addr, c.DataDir, tt.wantAddr, tt.wantDir)
			}
		})
	}
}

func TestLoadConfigDefaults(t *testing.T) {
	t.Parallel()
	c, _, err := loadConfig("serve", nil, env(nil), io.Discard, server, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxUploadBytes != 5*1024*1024 || c.MaxPixels != 50_000_000 || c.ProductMinSide != 200 || c.ProductMaxSide != 5000 ||
		c.MaxImagesPerProduct != 50 || c.MaxBulkFiles != 10 || c.PublicURL != nil || c.TrustProxy || c.PollInterval != 100*time.Millisecond {
		t.Fatalf("got %+v, want the documented defaults", c)
	}
	if !slices.Equal(c.Renditions, vitrine.DefaultSpecs()) || c.Renditions[0].String() != "thumbnail=200x200,contain,jpeg,q85" || c.Renditions[1].String() != "medium=800x800,contain,jpeg,q90" {
		t.Fatalf("got renditions %v, want the default set, starting with the note's thumbnail and medium", c.Renditions)
	}
	if c.RenderMemory < 256<<20 || c.RenderMemory > 1<<30 || c.RenderWorkers < 1 || c.MaxUploads != 64 || c.MinUploadRate != 16<<10 ||
		c.RateLimitToken != 600 || c.RateLimitIP != 1200 {
		t.Fatalf("got %+v, want the documented admission and rate limit defaults", c)
	}
}

func TestParseBytes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want int64 // -1: an error
	}{
		{"0", 0}, {"1048576", 1 << 20}, {"16K", 16 << 10}, {"512M", 512 << 20}, {"2G", 2 << 30}, {" 3M ", 3 << 20},
		{"", -1}, {"-1M", -1}, {"1.5G", -1}, {"1T", -1}, {"M", -1}, {"99999999999G", -1},
	} {
		got, err := parseBytes(tt.in)
		if tt.want < 0 {
			if err == nil {
				t.Errorf("parseBytes(%q): got %d, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseBytes(%q): got %d, %v, want %d", tt.in, got, err, tt.want)
		}
		if back, err := parseBytes(formatBytes(got)); err != nil || back != got {
			t.Errorf("formatBytes(%d) = %q reads back as %d, %v", got, formatBytes(got), back, err)
		}
	}
}

func TestLoadConfigListsEveryProblem(t *testing.T) {
	t.Parallel()
	_, _, err := loadConfig("serve", []string{
		"--public-url", "ftp://x", "--max-upload-bytes", "0", "--renditions", "thumbnail=200x200", "--poll-interval", "soon",
		"--trust-proxy", "maybe", "--product-image-min-side", "6000",
	}, env(map[string]string{"VITRINE_LOG_LEVEL": "loud"}), io.Discard, server, nil)
	if err == nil {
		t.Fatal("got no error, want every problem listed")
	}
	for _, want := range []string{"--public-url", "--max-upload-bytes", "--renditions", "medium", "--poll-interval", "--trust-proxy", "--log-level", "side limits"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got %q, want it to mention %s", err, want)
		}
	}
}

func TestLoadConfigPublicURL(t *testing.T) {
	t.Parallel()
	c, _, err := loadConfig("serve", nil, env(map[string]string{"VITRINE_PUBLIC_URL": "https://api.shop.example", "VITRINE_TRUST_PROXY": "1"}), io.Discard, server, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicURL.String() != "https://api.shop.example" || !c.TrustProxy {
		t.Fatalf("got %v %v", c.PublicURL, c.TrustProxy)
	}
}

func TestLoadConfigStorageAndDatabase(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // "" for none
	}{
		{"defaults", nil, ""},
		{"postgres", map[string]string{"VITRINE_DATABASE_URL": "postgres://u:secret@db/vitrine"}, ""},
		{"not postgres", map[string]string{"VITRINE_DATABASE_URL": "mysql://u:secret@db/x"}, "--database-url"},
		{"s3 with credentials", map[string]string{"VITRINE_STORAGE_URL": "s3://bucket/media?region=eu-west-1",
			"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}, ""},
		{"s3 without credentials", map[string]string{"VITRINE_STORAGE_URL": "s3://bucket"}, "AWS_ACCESS_KEY_ID"},
		{"bad storage", map[string]string{"VITRINE_STORAGE_URL": "ftp://x"}, "--storage-url"},
		{"signed without s3", map[string]string{"VITRINE_MEDIA_SIGNED": "1"}, "--media-signed"},
		{"bad media url", map[string]string{"VITRINE_MEDIA_URL": "cdn.example"}, "--media-url"},
		{"rescue before timeout", map[string]string{"VITRINE_JOB_TIMEOUT": "5m", "VITRINE_JOB_RESCUE_AFTER": "1m"}, "--job-rescue-after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _, err := loadConfig("serve", nil, env(tt.env), io.Discard, server, nil)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("got %v, want no error", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("got %v, want an error about %s", err, tt.wantErr)
			case tt.wantErr != "" && strings.Contains(err.Error(), "secret"):
				t.Fatalf("the error %q shows a password", err)
			}
			if tt.name == "defaults" && (c.DatabaseDSN() != "sqlite:data/vitrine.db" || c.MediaDir() != "data/media" || c.SweepInterval != time.Hour) {
				t.Fatalf("got %s %s %s, want SQLite and media in the data directory, hourly sweeps", c.DatabaseDSN(), c.MediaDir(), c.SweepInterval)
			}
		})
	}
}
