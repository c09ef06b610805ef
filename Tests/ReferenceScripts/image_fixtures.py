"""Reference images, arrays and values for Tests/DatasetsTests (the Datasets module).

Pins (add to requirements.txt): Pillow==12.1.1 (bundles libjpeg-turbo 3.1.3), numpy==2.4.6, scipy==1.17.1.

Run from the repository root:
    /work/refenv/bin/python Tests/ReferenceScripts/image_fixtures.py

Writes into Tests/DatasetsTests/Fixtures/:
- images/: small PNG and JPEG files (grayscale, RGB, palette) written by Pillow;
- corrupt/: a truncated JPEG, a JPEG with garbage entropy data, a text file named .jpeg, an empty .png;
- arrays_stored.npz (numpy.savez) and arrays_deflated.npz (numpy.savez_compressed), array.npy;
- image_fixtures.json: Pillow's decoded pixels of every image, Pillow's RGB->L conversion,
  resize references computed here in NumPy (bilinear with half-pixel centers, area averaging by
  exact overlap; Pillow's BOX filter samples the box at pixel centers instead, so it is not used), and SciPy affine_transform (order=1, mode="nearest")
  references for the augmentation transform with Keras's apply_affine_transform matrix.
"""
import io
import os
import sys

import numpy as np
import PIL
import scipy
from PIL import Image
from scipy import ndimage

sys.path.insert(0, os.path.dirname(__file__))
import fixture_io  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "DatasetsTests", "Fixtures")
IMAGES = os.path.join(ROOT, "images")
CORRUPT = os.path.join(ROOT, "corrupt")
os.makedirs(IMAGES, exist_ok=True)
os.makedirs(CORRUPT, exist_ok=True)
rng = np.random.default_rng(5)


def smooth(h, w, c):
    """A smooth gradient plus noise: realistic for JPEG, with structure for resize checks."""
    y, x = np.mgrid[0:h, 0:w]
    base = 128 + 90 * np.sin(x / w * 3.1) * np.cos(y / h * 2.3)
    chans = [base + 20 * k + rng.normal(0, 12, (h, w)) for k in range(c)]
    return np.clip(np.stack(chans, -1), 0, 255).astype(np.uint8)


cases = {}

# Lossless images: PNG gray, RGB, palette.
gray = smooth(13, 17, 1)[..., 0]
rgb = smooth(11, 9, 3)
Image.fromarray(gray, "L").save(os.path.join(IMAGES, "gray.png"))
Image.fromarray(rgb, "RGB").save(os.path.join(IMAGES, "rgb.png"))
Image.fromarray(rgb, "RGB").quantize(colors=16).save(os.path.join(IMAGES, "palette.png"))
# JPEG: grayscale, RGB 4:2:0 (Pillow's default), RGB 4:4:4, progressive.
big_gray = smooth(40, 56, 1)[..., 0]
big_rgb = smooth(33, 47, 3)
Image.fromarray(big_gray, "L").save(os.path.join(IMAGES, "gray.jpeg"), quality=90)
Image.fromarray(big_rgb, "RGB").save(os.path.join(IMAGES, "rgb420.jpeg"), quality=85)
Image.fromarray(big_rgb, "RGB").save(os.path.join(IMAGES, "rgb444.jpg"), quality=85, subsampling=0)
Image.fromarray(big_gray, "L").save(os.path.join(IMAGES, "progressive.jpeg"), quality=80, progressive=True)

for name in ["gray.png", "rgb.png", "palette.png", "gray.jpeg", "rgb420.jpeg", "rgb444.jpg", "progressive.jpeg"]:
    im = Image.open(os.path.join(IMAGES, name))
    im.load()
    if im.mode == "P":
        im = im.convert("RGB")
    a = np.asarray(im)
    if a.ndim == 2:
        a = a[..., None]
    key = name.replace(".", "_")
    cases[key] = {"arrays": {"pixels": a}, "params": {"height": a.shape[0], "width": a.shape[1], "channels": a.shape[2]}}

# RGB to luminance, Pillow's convert("L").
cases["luminance"] = {"arrays": {"rgb": rgb, "gray": np.asarray(Image.fromarray(rgb, "RGB").convert("L"))}}


# Resize references in NumPy.
def bilinear_half_pixel(img, oh, ow):
    h, w = img.shape[:2]
    def axis(n, o):
        x = (np.arange(o) + 0.5) * (n / o) - 0.5
        x = np.clip(x, 0, n - 1)
        lo = np.minimum(np.floor(x).astype(int), max(n - 2, 0))
        hi = np.minimum(lo + 1, n - 1)
        return lo, hi, x - lo
    ylo, yhi, fy = axis(h, oh)
    xlo, xhi, fx = axis(w, ow)
    f = img.astype(np.float64)
    top = f[ylo][:, xlo] * (1 - fx)[None, :, None] + f[ylo][:, xhi] * fx[None, :, None]
    bot = f[yhi][:, xlo] * (1 - fx)[None, :, None] + f[yhi][:, xhi] * fx[None, :, None]
    return top * (1 - fy)[:, None, None] + bot * fy[:, None, None]


def area(img, oh, ow):
    def matrix(n, o):
        m = np.zeros((o, n))
        s = n / o
        for i in range(o):
            lo, hi = i * s, (i + 1) * s
            for j in range(int(np.floor(lo)), min(n, int(np.ceil(hi)))):
                m[i, j] = max(0.0, min(hi, j + 1) - max(lo, j)) / s
        return m
    my, mx = matrix(img.shape[0], oh), matrix(img.shape[1], ow)
    return np.einsum("ij,jkc,lk->ilc", my, img.astype(np.float64), mx)


src = smooth(37, 53, 1)
src3 = smooth(20, 31, 3)
Image.fromarray(src[..., 0], "L").save(os.path.join(IMAGES, "resize_source.png"))
Image.fromarray(src3, "RGB").save(os.path.join(IMAGES, "resize_source_rgb.png"))
for (oh, ow) in [(15, 20), (50, 70), (7, 9)]:
    cases[f"bilinear_{oh}x{ow}"] = {"arrays": {"out": bilinear_half_pixel(src, oh, ow)}, "params": {"height": oh, "width": ow}}
    cases[f"area_{oh}x{ow}"] = {
        "arrays": {"out": area(src, oh, ow)},
        "params": {"height": oh, "width": ow}}
cases["bilinear_rgb_9x13"] = {"arrays": {"out": bilinear_half_pixel(src3, 9, 13)}}
cases["area_rgb_5x7"] = {"arrays": {"out": area(src3, 5, 7)}}
# Center crop to the target aspect ratio (Keras crop box arithmetic) then bilinear: 37x53 -> 10x10.
ch = max(min(37, int(float(53 * 10) / 10)), 1)
cw = max(min(53, int(float(37 * 10) / 10)), 1)
y0, x0 = int(float(37 - ch) / 2), int(float(53 - cw) / 2)
cases["crop_bilinear_10x10"] = {"arrays": {"out": bilinear_half_pixel(src[y0:y0 + ch, x0:x0 + cw], 10, 10)},
                                "params": {"x": x0, "y": y0, "w": cw, "h": ch}}


# Augmentation: Keras apply_affine_transform's matrix, SciPy's bilinear sampling with nearest fill.
def keras_affine(x, theta, tx, ty, zx, zy):
    t = np.deg2rad(theta)
    rotation = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
    shift = np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]])
    zoom = np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]])
    m = rotation @ shift @ zoom
    h, w = x.shape[:2]
    ox, oy = float(h) / 2 - 0.5, float(w) / 2 - 0.5
    m = np.array([[1, 0, ox], [0, 1, oy], [0, 0, 1]]) @ m @ np.array([[1, 0, -ox], [0, 1, -oy], [0, 0, 1]])
    chans = [ndimage.affine_transform(x[..., c].astype(np.float64), m[:2, :2], m[:2, 2], order=1, mode="nearest")
             for c in range(x.shape[2])]
    return np.stack(chans, -1)


aug_src = smooth(24, 30, 1).astype(np.float64)
aug_src3 = smooth(16, 12, 3).astype(np.float64)
for name, p in {"rotate": (10, 0, 0, 1, 1), "shift": (0, 2.4, -3, 1, 1), "zoom": (0, 0, 0, 0.8, 1.2),
                "combined": (-7.5, 1.5, 2.25, 1.1, 0.9)}.items():
    cases[f"affine_{name}"] = {"arrays": {"input": aug_src, "out": keras_affine(aug_src, *p)},
                               "params": dict(zip(["theta", "tx", "ty", "zx", "zy"], p))}
cases["affine_rgb"] = {"arrays": {"input": aug_src3, "out": keras_affine(aug_src3, 12, -1, 1, 1.15, 1.05)},
                       "params": dict(zip(["theta", "tx", "ty", "zx", "zy"], (12, -1, 1, 1.15, 1.05)))}

# NumPy arrays: stored and deflated archives with several dtypes and shapes.
arrays = {
    "train_images": rng.integers(0, 256, (5, 4, 3), dtype=np.uint8),
    "train_labels": rng.integers(0, 2, (5, 1), dtype=np.uint8),
    "floats": rng.normal(size=(3, 2)).astype(np.float32),
    "doubles": rng.normal(size=(7,)),
    "ints": rng.integers(-1000, 1000, (2, 3), dtype=np.int64),
    "scalar": np.array(3.5),
}
np.savez(os.path.join(ROOT, "arrays_stored.npz"), **arrays)
np.savez_compressed(os.path.join(ROOT, "arrays_deflated.npz"), **arrays)
np.save(os.path.join(ROOT, "array.npy"), arrays["ints"].astype(np.int32))
cases["npz"] = {"arrays": {k: v for k, v in arrays.items()}}

# Corrupt files.
jpeg_bytes = open(os.path.join(IMAGES, "gray.jpeg"), "rb").read()
open(os.path.join(CORRUPT, "truncated.jpeg"), "wb").write(jpeg_bytes[: len(jpeg_bytes) // 2])
garbled = bytearray(jpeg_bytes)
sos = garbled.index(b"\xff\xda")
for i in range(sos + 20, len(garbled) - 2, 7):
    garbled[i] = 0xFF if garbled[i] != 0xFF else 0x00
open(os.path.join(CORRUPT, "garbled.jpeg"), "wb").write(bytes(garbled))
open(os.path.join(CORRUPT, "notes.jpeg"), "w").write("not an image\n")
open(os.path.join(CORRUPT, "empty.png"), "wb").close()
png_bytes = open(os.path.join(IMAGES, "gray.png"), "rb").read()
open(os.path.join(CORRUPT, "truncated.png"), "wb").write(png_bytes[: len(png_bytes) - 30])

fixture_io.write(os.path.join(ROOT, "image_fixtures.json"), "image_fixtures.py", cases,
                 [("Pillow", PIL), ("numpy", np), ("scipy", scipy)])
