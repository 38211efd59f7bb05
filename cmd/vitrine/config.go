package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/vitrine/vitrine"
	"github.com/vitrine/vitrine/blob"
)

// Config is every setting of vitrine, loaded from flags and VITRINE_*
// variables and validated before anything opens.
type Config struct {
	Addr       string
	DataDir    string
	PublicURL  *url.URL
	TrustProxy bool
	// CORSOrigins may call the API from a browser.
	CORSOrigins []string

	// DatabaseURL is a postgres:// URL, or "" for the SQLite file in DataDir.
	DatabaseURL        string
	DBMaxConns         int
	DBStatementTimeout time.Duration

	// StorageURL is s3://BUCKET/PREFIX?..., or file:DIR; "" is the media
	// directory in DataDir.
	StorageURL        string
	MediaURL          string
	MediaSigned       bool
	MediaSignedTTL    time.Duration
	MediaCacheControl string
	MediaACL          string
	// AWS credentials, from the standard AWS variables (never flags: a
	// flag shows in the process list).
	AWSAccessKey, AWSSecretKey, AWSSessionToken string

	MaxUploadBytes      int64
	MaxPixels           int64
	ProductMinSide      int
	ProductMaxSide      int
	MaxImagesPerProduct int
	MaxBulkFiles        int
	// RateLimitToken and RateLimitIP cap write requests per minute (0: off).
	RateLimitToken int
	RateLimitIP    int
	// MaxUploads uploads are read and checked at once; more wait up to
	// UploadQueueWait, then get 503.
	MaxUploads      int
	UploadQueueWait time.Duration
	// UploadChecks received files are decoded (verified whole) at once.
	UploadChecks int
	// MinUploadRate (bytes/s) cuts off trickling bodies after MinRateGrace.
	MinUploadRate int64
	MinRateGrace  time.Duration

	Renditions      []vitrine.Spec
	RenderWorkers   int
	RenderMemory    int64
	VipsConcurrency int
	PollInterval    time.Duration
	JobTimeout      time.Duration
	JobRescueAfter  time.Duration
	SweepInterval   time.Duration
	SweepGrace      time.Duration
	ShutdownTimeout time.Duration
	LogLevel        string
}

// DatabaseDSN is what sqldb.Open takes: DatabaseURL, or the SQLite file in
// the data directory.
func (c Config) DatabaseDSN() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	return "sqlite:" + filepath.Join(c.DataDir, "vitrine.db")
}

// MediaDir is the directory of local storage: file:DIR, or the media
// directory in the data directory; "" for S3.
func (c Config) MediaDir() string {
	switch {
	case strings.HasPrefix(c.StorageURL, "s3://"):
		return ""
	case strings.HasPrefix(c.StorageURL, "file:"):
		return strings.TrimPrefix(c.StorageURL, "file:")
	}
	return filepath.Join(c.DataDir, "media")
}

// TempDir holds uploads while they are checked.
func (c Config) TempDir() string { return filepath.Join(c.DataDir, "tmp") }

// GalleryLimits are the upload limits of gallery images.
func (c Config) GalleryLimits() vitrine.UploadLimits {
	l := vitrine.DefaultGalleryLimits()
	l.MaxBytes, l.MaxPixels = c.MaxUploadBytes, c.MaxPixels
	return l
}

// ProductImageLimits are the upload limits of the product's single image.
func (c Config) ProductImageLimits() vitrine.UploadLimits {
	l := c.GalleryLimits()
	l.MinSide, l.MaxSide = c.ProductMinSide, c.ProductMaxSide
	return l
}

// envOr returns the variable's value, or def when it is unset or empty.
func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

// scope says which settings a subcommand declares.
type scope int

const (
	dataOnly scope = iota // migrate, token: the data directory and the database
	workers               // reprocess, sweep, work: plus storage, rendering and jobs
	server                // serve: plus the HTTP and upload settings
)

// loadConfig parses args (flags of one subcommand) over the environment,
// declaring the settings of its scope plus what extra declares, and
// validates them, listing every problem. It returns the flag set for its
// positional arguments.
func loadConfig(name string, args []string, getenv func(string) string, stderr io.Writer, sc scope, extra func(*flag.FlagSet)) (Config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet("vitrine "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	if extra != nil {
		extra(fs)
	}
	var c Config
	raw := map[string]*string{}
	setting := func(flagName, env, def, help string) {
		s := new(string)
		fs.StringVar(s, flagName, envOr(getenv, env, def), help+" ("+env+")")
		raw[flagName] = s
	}
	setting("data-dir", "VITRINE_DATA_DIR", "data", "directory of the SQLite database and the media files")
	setting("database-url", "VITRINE_DATABASE_URL", "", "postgres://USER@HOST/DB?sslmode=... (default: SQLite in the data directory)")
	setting("db-max-conns", "VITRINE_DB_MAX_CONNS", "10", "database connections per process (PostgreSQL pool size, SQLite readers)")
	setting("db-statement-timeout", "VITRINE_DB_STATEMENT_TIMEOUT", "30s", "PostgreSQL cancels statements running longer")
	if sc >= workers {
		setting("storage-url", "VITRINE_STORAGE_URL", "", "s3://BUCKET/PREFIX?region=R&endpoint=URL&path_style=1 or file:DIR (default: media/ in the data directory)")
		setting("media-url", "VITRINE_MEDIA_URL", "", "base URL of every file, e.g. a CDN domain (default: the bucket's URL, or /media/ on this server)")
		setting("media-signed", "VITRINE_MEDIA_SIGNED", "0", "1: presigned S3 URLs for a private bucket, made per response")
		setting("media-signed-ttl", "VITRINE_MEDIA_SIGNED_TTL", "1h", "how long a presigned URL stays valid")
		setting("media-cache-control", "VITRINE_MEDIA_CACHE_CONTROL", "public, max-age=31536000, immutable", "Cache-Control of stored objects (S3)")
		setting("media-acl", "VITRINE_MEDIA_ACL", "", "canned ACL of stored objects, e.g. public-read (S3)")
		setting("job-timeout", "VITRINE_JOB_TIMEOUT", "2m", "a job running longer is cancelled and retried")
		setting("job-rescue-after", "VITRINE_JOB_RESCUE_AFTER", "3m", "a job left running by a dead node is retried after this long")
		setting("sweep-interval", "VITRINE_SWEEP_INTERVAL", "1h", "how often the storage sweep runs (0: never)")
		setting("sweep-grace", "VITRINE_SWEEP_GRACE", "1h", "the sweep deletes unreferenced files older than this")
		setting("renditions", "VITRINE_RENDITIONS", specsString(vitrine.DefaultSpecs()), "rendition specs, separated by ';': name=WxH[,contain|cover][,jpeg|png|webp|avif][,qN]")
		setting("render-workers", "VITRINE_RENDER_WORKERS", strconv.Itoa(runtime.NumCPU()), "images rendered at once at most (each keeps a core busy)")
		setting("render-memory", "VITRINE_RENDER_MEMORY", formatBytes(defaultRenderMemory()), "memory budget of the renders running at once (e.g. 512M, 2G); a render waits until its estimated peak fits")
		setting("vips-concurrency", "VITRINE_VIPS_CONCURRENCY", "1", "libvips threads per render (the codecs are serial: more rarely helps)")
		setting("poll-interval", "VITRINE_POLL_INTERVAL", "100ms", "how often idle workers look for jobs")
		setting("shutdown-timeout", "VITRINE_SHUTDOWN_TIMEOUT", "30s", "how long a stop waits for requests and jobs in flight")
		setting("log-level", "VITRINE_LOG_LEVEL", "info", "debug, info, warn or error")
	}
	if sc >= server {
		setting("addr", "VITRINE_ADDR", "127.0.0.1:8000", "listen address")
		setting("public-url", "VITRINE_PUBLIC_URL", "", "scheme and host of every absolute URL, e.g. https://api.shop.example (default: from each request)")
		setting("trust-proxy", "VITRINE_TRUST_PROXY", "0", "1 to build URLs from X-Forwarded-Proto and X-Forwarded-Host")
		setting("cors-origins", "VITRINE_CORS_ORIGINS", "", "comma-separated origins (https://shop.example) whose pages may call the API from a browser; * for any")
		setting("max-upload-bytes", "VITRINE_MAX_UPLOAD_BYTES", strconv.Itoa(vitrine.DefaultMaxBytes), "largest accepted image file in bytes")
		setting("max-pixels", "VITRINE_MAX_PIXELS", strconv.Itoa(vitrine.DefaultMaxPixels), "largest accepted image in pixels (width x height), read from the header")
		setting("product-image-min-side", "VITRINE_PRODUCT_IMAGE_MIN_SIDE", "200", "smallest width and height of a product's single image")
		setting("product-image-max-side", "VITRINE_PRODUCT_IMAGE_MAX_SIDE", "5000", "largest width and height of a product's single image")
		setting("max-images-per-product", "VITRINE_MAX_IMAGES_PER_PRODUCT", "50", "gallery images allowed per product")
		setting("max-bulk-files", "VITRINE_MAX_BULK_FILES", "10", "files allowed in one bulk upload")
		setting("rate-limit-token", "VITRINE_RATE_LIMIT_TOKEN", "600", "write requests per minute per token, per node (0: no limit; admin tokens are exempt)")
		setting("rate-limit-ip", "VITRINE_RATE_LIMIT_IP", "1200", "write requests per minute per client IP, per node (0: no limit)")
		setting("max-uploads", "VITRINE_MAX_UPLOADS", "64", "upload requests read and checked at once; more wait for a turn (0: no limit)")
		setting("upload-queue-wait", "VITRINE_UPLOAD_QUEUE_WAIT", "10s", "how long an upload waits for a turn before 503 with Retry-After")
		setting("upload-checks", "VITRINE_UPLOAD_CHECKS", strconv.Itoa(max(1, runtime.NumCPU()/2)), "received uploads decoded at once to verify them (each keeps a core busy); the others wait their turn (0: no limit)")
		setting("min-upload-rate", "VITRINE_MIN_UPLOAD_RATE", "16K", "request bodies arriving slower on average, in bytes per second, are cut off with 408 (0: never)")
		setting("min-upload-rate-grace", "VITRINE_MIN_UPLOAD_RATE_GRACE", "10s", "time every request body gets before the minimum rate applies")
	}
	if err := parseInterspersed(fs, args); err != nil {
		return Config{}, fs, err
	}
	var problems []error
	bad := func(flagName string, err error) {
		problems = append(problems, fmt.Errorf("--%s: %w", flagName, err))
	}
	integer := func(flagName string, lo int64) int64 {
		n, err := strconv.ParseInt(strings.TrimSpace(*raw[flagName]), 10, 64)
		if err != nil || n < lo {
			bad(flagName, fmt.Errorf("%q is not an integer >= %d", *raw[flagName], lo))
		}
		return n
	}
	duration := func(flagName string) time.Duration {
		d, err := time.ParseDuration(*raw[flagName])
		if err != nil || d <= 0 {
			bad(flagName, fmt.Errorf("%q is not a positive duration such as 30s", *raw[flagName]))
		}
		return d
	}
	byteSize := func(flagName string, lo int64) int64 {
		n, err := parseBytes(*raw[flagName])
		if err != nil || n < lo {
			bad(flagName, fmt.Errorf("%q is not a size >= %s such as 512M", *raw[flagName], formatBytes(lo)))
		}
		return n
	}
	boolean := func(flagName string) bool {
		switch *raw[flagName] {
		case "1", "true":
			return true
		case "0", "false", "":
			return false
		}
		bad(flagName, fmt.Errorf("%q is not 0 or 1", *raw[flagName]))
		return false
	}
	c.DataDir = *raw["data-dir"]
	if strings.TrimSpace(c.DataDir) == "" {
		bad("data-dir", errors.New("empty directory"))
	}
	c.DatabaseURL = *raw["database-url"]
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		bad("database-url", fmt.Errorf("%q is not a postgres:// URL", redact(c.DatabaseURL)))
	}
	c.DBMaxConns = int(integer("db-max-conns", 1))
	c.DBStatementTimeout = duration("db-statement-timeout")
	if sc >= workers {
		c.StorageURL = *raw["storage-url"]
		switch {
		case c.StorageURL == "", strings.HasPrefix(c.StorageURL, "file:") && len(c.StorageURL) > len("file:"):
		case strings.HasPrefix(c.StorageURL, "s3://"):
			if _, _, _, err := blob.ParseS3URL(c.StorageURL); err != nil {
				bad("storage-url", err)
			}
			c.AWSAccessKey, c.AWSSecretKey = getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
			c.AWSSessionToken = getenv("AWS_SESSION_TOKEN")
			if c.AWSAccessKey == "" || c.AWSSecretKey == "" {
				bad("storage-url", errors.New("S3 needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"))
			}
		default:
			bad("storage-url", fmt.Errorf("%q is not s3://BUCKET/PREFIX or file:DIR", c.StorageURL))
		}
		c.MediaURL = *raw["media-url"]
		if c.MediaURL != "" {
			if u, err := url.Parse(c.MediaURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				bad("media-url", fmt.Errorf("%q is not an http(s) URL", c.MediaURL))
			}
		}
		c.MediaSigned = boolean("media-signed")
		if c.MediaSigned && !strings.HasPrefix(c.StorageURL, "s3://") {
			bad("media-signed", errors.New("presigned URLs need S3 storage"))
		}
		c.MediaSignedTTL = duration("media-signed-ttl")
		c.MediaCacheControl = *raw["media-cache-control"]
		c.MediaACL = *raw["media-acl"]
		c.JobTimeout = duration("job-timeout")
		c.JobRescueAfter = duration("job-rescue-after")
		if c.JobRescueAfter <= c.JobTimeout {
			bad("job-rescue-after", fmt.Errorf("%s must be longer than --job-timeout %s", c.JobRescueAfter, c.JobTimeout))
		}
		if *raw["sweep-interval"] != "0" { // 0 turns the periodic sweep off
			c.SweepInterval = duration("sweep-interval")
		}
		c.SweepGrace = duration("sweep-grace")
		specs, err := parseSpecs(*raw["renditions"])
		if err != nil {
			bad("renditions", err)
		}
		c.Renditions = specs
		c.RenderWorkers = int(integer("render-workers", 1))
		c.RenderMemory = byteSize("render-memory", 32<<20)
		c.VipsConcurrency = int(integer("vips-concurrency", 1))
		c.PollInterval = duration("poll-interval")
		c.ShutdownTimeout = duration("shutdown-timeout")
		c.LogLevel = *raw["log-level"]
		switch c.LogLevel {
		case "debug", "info", "warn", "error":
		default:
			bad("log-level", fmt.Errorf("%q is not debug, info, warn or error", c.LogLevel))
		}
	}
	if sc >= server {
		c.Addr = *raw["addr"]
		if c.Addr == "" {
			bad("addr", errors.New("empty listen address"))
		}
		if s := *raw["public-url"]; s != "" {
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
				bad("public-url", fmt.Errorf("%q is not an http(s)://host[/path] URL", s))
			} else {
				c.PublicURL = u
			}
		}
		c.TrustProxy = boolean("trust-proxy")
		for _, o := range strings.Split(*raw["cors-origins"], ",") {
			o = strings.TrimSpace(o)
			if o == "" {
				continue
			}
			if u, err := url.Parse(o); o != "*" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "") {
				bad("cors-origins", fmt.Errorf("%q is not an origin such as https://shop.example", o))
				continue
			}
			c.CORSOrigins = append(c.CORSOrigins, o)
		}
		c.MaxUploadBytes = integer("max-upload-bytes", 1)
		c.MaxPixels = integer("max-pixels", 1)
		c.ProductMinSide = int(integer("product-image-min-side", 0))
		c.ProductMaxSide = int(integer("product-image-max-side", 1))
		c.MaxImagesPerProduct = int(integer("max-images-per-product", 1))
		c.MaxBulkFiles = int(integer("max-bulk-files", 1))
		c.RateLimitToken = int(integer("rate-limit-token", 0))
		c.RateLimitIP = int(integer("rate-limit-ip", 0))
		c.MaxUploads = int(integer("max-uploads", 0))
		c.UploadQueueWait = duration("upload-queue-wait")
		c.UploadChecks = int(integer("upload-checks", 0))
		c.MinUploadRate = byteSize("min-upload-rate", 0)
		c.MinRateGrace = duration("min-upload-rate-grace")
		if err := c.ProductImageLimits().Validate(); err != nil {
			problems = append(problems, err)
		}
	}
	return c, fs, errors.Join(problems...)
}

// parseBytes reads a size in bytes with an optional binary suffix: 512K,
// 64M, 2G.
func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	shift := 0
	switch {
	case strings.HasSuffix(s, "K"):
		shift = 10
	case strings.HasSuffix(s, "M"):
		shift = 20
	case strings.HasSuffix(s, "G"):
		shift = 30
	}
	if shift > 0 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)>>shift {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	return n << shift, nil
}

// formatBytes writes n the way parseBytes reads it, in the largest whole
// unit.
func formatBytes(n int64) string {
	for _, u := range []struct {
		suffix string
		shift  int
	}{{"G", 30}, {"M", 20}, {"K", 10}} {
		if n > 0 && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// defaultRenderMemory is a quarter of the memory this process may use (the
// cgroup's limit in a container, else the machine's), between 256 MiB and
// 1 GiB: past that, the cores rather than memory bound the renders.
func defaultRenderMemory() int64 {
	total := memInfoTotal()
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && (total == 0 || n < total) {
			total = n
		}
	}
	q := total / 4
	return min(max(q, 256<<20), 1<<30) &^ (1<<20 - 1) // whole MiB
}

// memInfoTotal reads MemTotal from /proc/meminfo, or 0.
func memInfoTotal() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// parseSpecs reads ';'-separated rendition specs. The note's "thumbnail"
// and "medium" must stay: thumbnail_url and medium_url are part of the API.
func parseSpecs(s string) ([]vitrine.Spec, error) {
	var specs []vitrine.Spec
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		sp, err := vitrine.ParseSpec(part)
		if err != nil {
			return nil, err
		}
		if seen[sp.Name] {
			return nil, fmt.Errorf("rendition %q is listed twice", sp.Name)
		}
		seen[sp.Name] = true
		specs = append(specs, sp)
	}
	for _, need := range []string{"thumbnail", "medium"} {
		if !seen[need] {
			return nil, fmt.Errorf("the %q rendition is required (the API's %s_url)", need, need)
		}
	}
	return specs, nil
}

func specsString(specs []vitrine.Spec) string {
	parts := make([]string, len(specs))
	for i, sp := range specs {
		parts[i] = sp.String()
	}
	return strings.Join(parts, ";")
}

// parseInterspersed parses flags wherever they stand, so that
// "token revoke 3 --data-dir d" works as the usage shows; the positional
// arguments are left in fs.Args().
func parseInterspersed(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return fs.Parse(append([]string{"--"}, positional...))
}

// redact hides the password of a URL for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}
