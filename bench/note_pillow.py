#!/usr/bin/python3
"""The design note's Pillow image code, as the baseline vitrine is measured against.

Two ways to run it (always with Debian's /usr/bin/python3 and python3-pil):

  note_pillow.py                      a worker: one JSON command per line on stdin,
                                      one JSON answer per line on stdout
  note_pillow.py concurrent N FILE    the note's three outputs for FILE in N threads
                                      at once; prints the process's peak RSS as JSON

The worker exists so that Python's start-up and imports are never timed. Commands:

  {"op": "version"}
  {"op": "render", "variant": "thumb+medium"|"note3", "path": P, "out": DIR or ""}
  {"op": "reference", "path": P, "width": W, "height": H, "out": FILE.pgm}
  {"op": "luma", "path": P, "out": FILE.pgm}

generate_thumbnails and optimize_product_image below are the note's code (sections
1 and 7) with only the Django parts replaced: `image` stands for the model's
ImageField file and `storage.save(name, buffer)` for the FieldFile.save calls. Do
not optimise them: they are what is being compared against.
"""

import json
import os
import sys
import threading
import time
from io import BytesIO

import PIL
from PIL import Image, features


class Storage:
    """Stands for the model's file fields. Each save records the time since the
    previous one, so every rendition's time includes its own open and decode."""

    def __init__(self):
        self.files = {}
        self.laps = []
        self.t = time.perf_counter()

    def save(self, name, buffer):
        now = time.perf_counter()
        self.laps.append((name, now - self.t))
        self.files[name] = buffer.getvalue()
        self.t = time.perf_counter()


def generate_thumbnails(image, storage):
    """Generate thumbnail and medium-sized images."""
    # Open original image
    img = Image.open(image)

    # Convert RGBA to RGB if necessary
    if img.mode in ('RGBA', 'LA', 'P'):
        background = Image.new('RGB', img.size, (255, 255, 255))
        background.paste(img, mask=img.split()[-1] if img.mode == 'RGBA' else None)
        img = background

    # Generate thumbnail (200x200)
    thumb_size = (200, 200)
    img.thumbnail(thumb_size, Image.Resampling.LANCZOS)

    thumb_io = BytesIO()
    img.save(thumb_io, format='JPEG', quality=85)

    storage.save('thumbnail', thumb_io)

    # Generate medium size (800x800)
    img = Image.open(image)  # Reopen original
    if img.mode in ('RGBA', 'LA', 'P'):
        background = Image.new('RGB', img.size, (255, 255, 255))
        background.paste(img, mask=img.split()[-1] if img.mode == 'RGBA' else None)
        img = background

    medium_size = (800, 800)
    img.thumbnail(medium_size, Image.Resampling.LANCZOS)

    medium_io = BytesIO()
    img.save(medium_io, format='JPEG', quality=90)

    storage.save('medium', medium_io)


def optimize_product_image(image, storage):
    """The WebP part of the note's Celery task: the original, flattened, as WebP."""
    # Open original
    img = Image.open(image)

    # Convert RGBA to RGB
    if img.mode in ('RGBA', 'LA', 'P'):
        background = Image.new('RGB', img.size, (255, 255, 255))
        background.paste(img, mask=img.split()[-1] if img.mode == 'RGBA' else None)
        img = background

    # Optimize and save as WebP (smaller file size)
    output = BytesIO()
    img.save(output, format='WebP', quality=85, optimize=True)
    output.seek(0)

    storage.save('full_webp', output)


def note3(image, storage):
    """The note's three outputs: thumbnail, medium and the full-size WebP."""
    generate_thumbnails(image, storage)
    optimize_product_image(image, storage)


VARIANTS = {'thumb+medium': generate_thumbnails, 'note3': note3}
EXTENSIONS = {'thumbnail': 'jpg', 'medium': 'jpg', 'full_webp': 'webp'}

# The worker reads each original once, untimed; vitrine's renderer is given
# the bytes in memory too.
_originals = {}


def original(path):
    if path not in _originals:
        with open(path, 'rb') as f:
            _originals[path] = f.read()
    return _originals[path]


def render(cmd):
    storage = Storage()
    VARIANTS[cmd['variant']](BytesIO(original(cmd['path'])), storage)
    renditions = []
    for name, seconds in storage.laps:
        data = storage.files[name]
        width, height = Image.open(BytesIO(data)).size  # header only
        r = {'name': name, 'seconds': seconds, 'bytes': len(data), 'width': width, 'height': height}
        if cmd.get('out'):
            r['path'] = os.path.join(cmd['out'], 'pillow-%s.%s' % (name, EXTENSIONS[name]))
            with open(r['path'], 'wb') as f:
                f.write(data)
        renditions.append(r)
    return {'seconds': sum(s for _, s in storage.laps), 'renditions': renditions}


def flattened(path):
    """The whole image decoded at full size, alpha composed on white, as RGB:
    how every output is compared, whatever its format."""
    img = Image.open(path)
    img.load()
    if img.mode in ('RGBA', 'LA', 'PA') or 'transparency' in img.info:
        img = img.convert('RGBA')
        background = Image.new('RGB', img.size, (255, 255, 255))
        background.paste(img, mask=img.split()[-1])
        return background
    return img.convert('RGB')


def reference(cmd):
    """Pillow's exact Lanczos from a full decode (resize, not thumbnail: no
    draft mode, no reducing gap), written as 8-bit luma."""
    img = flattened(cmd['path']).resize((cmd['width'], cmd['height']), Image.Resampling.LANCZOS)
    img.convert('L').save(cmd['out'], format='PPM')
    return {'width': img.width, 'height': img.height}


def luma(cmd):
    """The image as 8-bit luma (ITU-R 601-2, Pillow's convert('L')) in a PGM file."""
    img = flattened(cmd['path'])
    img.convert('L').save(cmd['out'], format='PPM')
    return {'width': img.width, 'height': img.height}


def version(cmd):
    return {
        'pillow': PIL.__version__,
        'python': sys.version.split()[0],
        'libwebp': features.version('webp'),
    }


OPS = {'render': render, 'reference': reference, 'luma': luma, 'version': version}


def serve():
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            cmd = json.loads(line)
            answer = OPS[cmd['op']](cmd)
        except Exception as e:  # answer, so the caller sees which command failed
            answer = {'error': '%s: %s' % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(answer) + '\n')
        sys.stdout.flush()


def status_kb(field):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    return 0


def concurrent(n, path):
    """The note's three outputs for one file in n threads at once, as n Celery
    threads would run them. Pillow releases the GIL while decoding, resizing
    and encoding, so the threads overlap."""
    data = original(path)
    baseline = status_kb('VmRSS')
    errors = []

    def one():
        try:
            note3(BytesIO(data), Storage())
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=one) for _ in range(n)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    if errors:
        raise errors[0]
    print(json.dumps({'n': n, 'seconds': seconds, 'baseline_rss_kb': baseline, 'peak_rss_kb': status_kb('VmHWM')}))


if __name__ == '__main__':
    if len(sys.argv) == 4 and sys.argv[1] == 'concurrent':
        concurrent(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) == 1:
        serve()
    else:
        sys.exit(__doc__)
