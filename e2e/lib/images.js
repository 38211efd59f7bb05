// images.js makes the test pictures in Node: PNG files built byte by byte
// (and one text file named .png), so the repository holds no image files
// and every run uses the same bytes.

import zlib from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

// encodePNG encodes an RGB picture from raw rows: each row is a filter byte
// (0, none) and width*3 bytes of RGB.
function encodePNG(width, height, raw) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 1 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// A small deterministic pseudo-random sequence (the noise that makes a file
// big enough for upload progress to be seen).
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s >>> 24;
  };
}

// product draws a recognisable test "product": a coloured disc on a
// gradient, with grain of the given strength (0 for a small file). It
// writes the bytes directly: the tests make a few dozen of these.
export function product(hue, { width = 640, height = 480, grain = 0, seed = 1 } = {}) {
  const disc = hsl(hue, 0.65, 0.55);
  const [r1, g1, b1] = hsl((hue + 40) % 360, 0.55, 0.85);
  const rand = rng(seed);
  const cx = width / 2;
  const cy = height / 2;
  const rad2 = (Math.min(width, height) * 0.32) ** 2;
  const raw = Buffer.alloc((width * 3 + 1) * height);
  const clamp = (v) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));
  let o = 0;
  for (let y = 0; y < height; y++) {
    raw[o++] = 0; // filter: none
    const t = y / height;
    const bg = [r1 * (1 - t) + 255 * t, g1 * (1 - t) + 255 * t, b1 * (1 - t) + 255 * t];
    const dy2 = (y - cy) ** 2;
    for (let x = 0; x < width; x++) {
      const c = (x - cx) ** 2 + dy2 < rad2 ? disc : bg;
      const n = grain ? (rand() - 128) * grain / 128 : 0;
      raw[o++] = clamp(c[0] + n);
      raw[o++] = clamp(c[1] + n);
      raw[o++] = clamp(c[2] + n);
    }
  }
  return encodePNG(width, height, raw);
}

function hsl(h, s, l) {
  const a = s * Math.min(l, 1 - l);
  const f = (n) => {
    const k = (n + h / 30) % 12;
    return 255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1)));
  };
  return [f(0), f(8), f(4)];
}

// notAnImage is text with a .png name: vitrine reads the bytes, not the
// name, and must refuse it.
export const notAnImage = Buffer.from('This is a text file that only pretends to be a PNG.\n');
