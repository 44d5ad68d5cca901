"""Draw the extension's icon (images/icon.png, 128x128) with the standard library only.

Two overlapping discs (two participants) on a rounded dark square: the shared part is where they
would collide. Run it again after changing the drawing: python3 scripts/make_icon.py
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

SIZE, SAMPLES = 128, 4
BACKGROUND, LEFT, RIGHT, SHARED = (28, 43, 61), (45, 170, 160), (240, 150, 50), (250, 225, 120)


def inside_rounded_square(x: float, y: float, radius: float = 24.0) -> bool:
    cx, cy = min(max(x, radius), SIZE - radius), min(max(y, radius), SIZE - radius)
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius**2


def colour(x: float, y: float) -> tuple[int, int, int, int]:
    if not inside_rounded_square(x, y):
        return (0, 0, 0, 0)
    left = (x - 50) ** 2 + (y - 64) ** 2 <= 32**2
    right = (x - 78) ** 2 + (y - 64) ** 2 <= 32**2
    rgb = SHARED if left and right else LEFT if left else RIGHT if right else BACKGROUND
    return (*rgb, 255)


def pixel(px: int, py: int) -> bytes:
    """Average of SAMPLES x SAMPLES points (colours weighted by their alpha)."""
    rgb, weight = [0, 0, 0], 0
    for sy in range(SAMPLES):
        for sx in range(SAMPLES):
            *c, a = colour(px + (sx + 0.5) / SAMPLES, py + (sy + 0.5) / SAMPLES)
            weight += a
            for i in range(3):
                rgb[i] += c[i] * a
    if weight == 0:
        return bytes(4)
    return bytes([round(v / weight) for v in rgb] + [round(weight / (SAMPLES * SAMPLES))])


def png(rows: list[bytes]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + row for row in rows)
    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / "images" / "icon.png"
    out.parent.mkdir(exist_ok=True)
    out.write_bytes(png([b"".join(pixel(x, y) for x in range(SIZE)) for y in range(SIZE)]))
    print(f"wrote {out} ({out.stat().st_size} bytes)")
