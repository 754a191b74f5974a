"""Draw the add-on's icon.png (256x256) and logo.png (250x100) without an imaging library.

Run: python addon/tools/make_images.py  (writes into addon/homesec/). The drawing is a white
security camera on a blue rounded square; the logo adds the word mark as block letters.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

BLUE = (3, 169, 244)
DARK = (1, 87, 155)
WHITE = (255, 255, 255)
RED = (244, 67, 54)


def png_bytes(rgba: np.ndarray) -> bytes:
    """Encode an (h, w, 4) uint8 array as a PNG (filter 0 on every row)."""
    height, width, _ = rgba.shape
    raw = b"".join(b"\x00" + rgba[y].tobytes() for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    return np.mgrid[0:h, 0:w].astype(np.float32)


def rounded_rect(img: np.ndarray, x0: float, y0: float, x1: float, y1: float, r: float,
                 color: tuple[int, int, int]) -> None:
    yy, xx = _grid(*img.shape[:2])
    cx = np.clip(xx, x0 + r, x1 - r)
    cy = np.clip(yy, y0 + r, y1 - r)
    inside = (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
    inside &= (xx >= x0) & (xx <= x1) & (yy >= y0) & (yy <= y1)
    img[inside] = (*color, 255)


def circle(img: np.ndarray, cx: float, cy: float, r: float, color: tuple[int, int, int]) -> None:
    yy, xx = _grid(*img.shape[:2])
    img[(xx - cx) ** 2 + (yy - cy) ** 2 <= r * r] = (*color, 255)


def camera(img: np.ndarray, ox: float, oy: float, s: float) -> None:
    """A camera on a wall bracket, drawn in a box of size s*256 at (ox, oy)."""
    k = s / 256.0
    rounded_rect(img, ox + 150 * k, oy + 150 * k, ox + 172 * k, oy + 200 * k, 6 * k, WHITE)
    rounded_rect(img, ox + 120 * k, oy + 192 * k, ox + 200 * k, oy + 212 * k, 8 * k, WHITE)
    rounded_rect(img, ox + 40 * k, oy + 80 * k, ox + 200 * k, oy + 155 * k, 18 * k, WHITE)
    rounded_rect(img, ox + 200 * k, oy + 95 * k, ox + 225 * k, oy + 140 * k, 8 * k, WHITE)
    circle(img, ox + 82 * k, oy + 117 * k, 24 * k, DARK)
    circle(img, ox + 82 * k, oy + 117 * k, 12 * k, BLUE)
    circle(img, ox + 175 * k, oy + 100 * k, 7 * k, RED)


FONT = {  # 5x7 block letters for the word mark
    "H": ["10001", "10001", "10001", "11111", "10001", "10001", "10001"],
    "O": ["01110", "10001", "10001", "10001", "10001", "10001", "01110"],
    "M": ["10001", "11011", "10101", "10101", "10001", "10001", "10001"],
    "E": ["11111", "10000", "10000", "11110", "10000", "10000", "11111"],
    "S": ["01111", "10000", "10000", "01110", "00001", "00001", "11110"],
    "C": ["01111", "10000", "10000", "10000", "10000", "10000", "01111"],
}


def text(img: np.ndarray, word: str, x: int, y: int, px: int,
         color: tuple[int, int, int]) -> None:
    for letter in word:
        for row, bits in enumerate(FONT[letter]):
            for col, bit in enumerate(bits):
                if bit == "1":
                    img[y + row * px:y + (row + 1) * px, x + col * px:x + (col + 1) * px] = (
                        *color, 255)
        x += 6 * px


def icon() -> np.ndarray:
    img = np.zeros((256, 256, 4), dtype=np.uint8)
    rounded_rect(img, 0, 0, 255, 255, 48, BLUE)
    camera(img, 0, 0, 256)
    return img


def logo() -> np.ndarray:
    img = np.zeros((100, 250, 4), dtype=np.uint8)
    rounded_rect(img, 0, 0, 99, 99, 20, BLUE)
    camera(img, 0, 0, 100)
    text(img, "HOMESEC", 110, 40, 3, DARK)
    return img


def main() -> None:
    out = Path(__file__).resolve().parents[1] / "homesec"
    (out / "icon.png").write_bytes(png_bytes(icon()))
    (out / "logo.png").write_bytes(png_bytes(logo()))


if __name__ == "__main__":
    main()
