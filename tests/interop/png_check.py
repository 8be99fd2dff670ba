#!/usr/bin/env python3
"""png_check.py FILE WIDTH HEIGHT [#RRGGBB ...]: is FILE a non-blank WIDTHxHEIGHT PNG?

Standard library only (struct, zlib). Reads the IHDR, inflates the IDAT chunks and undoes
the PNG row filters (8-bit greyscale, grey+alpha, RGB or RGBA, not interlaced), then
measures:

  - the dimensions, which must be WIDTH x HEIGHT;
  - the background: the most frequent colour (and the top-left pixel, for information);
  - ink: the share of pixels that differ from the background, at least 1%;
  - the number of distinct colours, at least 3;
  - for each #RRGGBB given: the pixels within 8 per channel of it, at least 30 (so that
    a colour the image should be drawn with is really there, not only blended edges).

Prints the measured facts, one "png_check: name: value" line each, then "png_check: ok"
or a "png_check: FAIL: ..." line per failed check. Exit 0 pass, 1 fail, 2 bad usage or
a file that is not a PNG this reads.
"""
import struct
import sys
import zlib

MIN_INK = 0.01
MIN_COLOURS = 3
NEAR = 8
MIN_NEAR = 30


def die(msg):
    print("png_check: " + msg)
    sys.exit(2)


def read_png(path):
    """(width, height, channels, rows): rows is a list of bytes, one per scanline."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        die("cannot read %s: %s" % (path, e))
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        die("%s is not a PNG (bad signature)" % path)
    pos = 8
    ihdr = None
    idat = []
    while pos + 8 <= len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length:
            die("%s: truncated %r chunk" % (path, ctype))
        crc = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
        if zlib.crc32(ctype + body) & 0xFFFFFFFF != crc:
            die("%s: bad CRC in the %r chunk" % (path, ctype))
        if ctype == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"IEND":
            break
        pos += 12 + length
    if ihdr is None or not idat:
        die("%s: no IHDR or no IDAT chunk" % path)
    width, height, depth, colour, _comp, _filt, interlace = ihdr
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace != 0:
        die("%s: bit depth %d, colour type %d, interlace %d: only 8-bit grey, grey+alpha, "
            "RGB and RGBA without interlace are read" % (path, depth, colour, interlace))
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    if len(raw) != height * (stride + 1):
        die("%s: %d bytes of image data, want %d" % (path, len(raw), height * (stride + 1)))
    rows = []
    prev = bytearray(stride)
    bpp = channels
    for y in range(height):
        off = y * (stride + 1)
        ftype = raw[off]
        cur = bytearray(raw[off + 1:off + 1 + stride])
        if ftype == 0:
            pass
        elif ftype == 1:  # Sub
            for i in range(bpp, stride):
                cur[i] = (cur[i] + cur[i - bpp]) & 0xFF
        elif ftype == 2:  # Up
            cur = bytearray((a + b) & 0xFF for a, b in zip(cur, prev))
        elif ftype == 3:  # Average
            for i in range(stride):
                left = cur[i - bpp] if i >= bpp else 0
                cur[i] = (cur[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif ftype == 4:  # Paeth
            for i in range(stride):
                a = cur[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                if pa <= pb and pa <= pc:
                    pred = a
                elif pb <= pc:
                    pred = b
                else:
                    pred = c
                cur[i] = (cur[i] + pred) & 0xFF
        else:
            die("%s: row %d has unknown filter type %d" % (path, y, ftype))
        rows.append(bytes(cur))
        prev = cur
    return width, height, channels, rows


def to_rgba(px, channels):
    if channels == 1:
        return (px[0], px[0], px[0], 255)
    if channels == 2:
        return (px[0], px[0], px[0], px[1])
    if channels == 3:
        return (px[0], px[1], px[2], 255)
    return tuple(px)


def hexrgb(c):
    s = "#%02x%02x%02x" % c[:3]
    return s if c[3] == 255 else s + "/a=%d" % c[3]


def main(argv):
    if len(argv) < 4:
        print("usage: png_check.py FILE WIDTH HEIGHT [#RRGGBB ...]", file=sys.stderr)
        return 2
    path = argv[1]
    try:
        want_w, want_h = int(argv[2]), int(argv[3])
        want_colours = []
        for a in argv[4:]:
            h = a.lstrip("#")
            if len(h) != 6:
                raise ValueError(a)
            want_colours.append((a, tuple(int(h[k:k + 2], 16) for k in (0, 2, 4))))
    except ValueError as e:
        print("png_check: bad argument: %s" % e, file=sys.stderr)
        return 2

    width, height, channels, rows = read_png(path)
    counts = {}
    for row in rows:
        # count whole pixels: slice the row into channels-wide byte strings
        for i in range(0, len(row), channels):
            px = row[i:i + channels]
            counts[px] = counts.get(px, 0) + 1
    total = width * height
    bg_raw, bg_n = max(counts.items(), key=lambda kv: kv[1])
    bg = to_rgba(bg_raw, channels)
    corner = to_rgba(rows[0][:channels], channels)
    ink = (total - bg_n) / total
    near = []
    for name, rgb in want_colours:
        n = 0
        for px, k in counts.items():
            c = to_rgba(px, channels)
            if c[3] == 255 and all(abs(c[j] - rgb[j]) <= NEAR for j in range(3)):
                n += k
        near.append((name, n))

    kind = {1: "grey", 2: "grey+alpha", 3: "RGB", 4: "RGBA"}[channels]
    print("png_check: file: %s" % path)
    print("png_check: size: %dx%d (8-bit %s)" % (width, height, kind))
    print("png_check: background: %s (%d pixels), top-left pixel %s"
          % (hexrgb(bg), bg_n, hexrgb(corner)))
    print("png_check: ink: %d of %d pixels differ from the background (%.2f%%)"
          % (total - bg_n, total, 100.0 * ink))
    print("png_check: distinct colours: %d" % len(counts))
    for name, n in near:
        print("png_check: pixels within %d of %s: %d" % (NEAR, name, n))

    bad = []
    if (width, height) != (want_w, want_h):
        bad.append("size %dx%d, want %dx%d" % (width, height, want_w, want_h))
    if ink < MIN_INK:
        bad.append("only %.2f%% of the pixels differ from the background, want >= %.0f%%"
                   % (100.0 * ink, 100.0 * MIN_INK))
    if len(counts) < MIN_COLOURS:
        bad.append("%d distinct colours, want >= %d" % (len(counts), MIN_COLOURS))
    for name, n in near:
        if n < MIN_NEAR:
            bad.append("%d pixels of colour %s, want >= %d" % (n, name, MIN_NEAR))
    for b in bad:
        print("png_check: FAIL: " + b)
    if not bad:
        print("png_check: ok")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
