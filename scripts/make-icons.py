#!/usr/bin/env python3
"""Write the PWA icons public/icons/icon-{192,512}.png (pure Python: zlib + struct, no imaging library).

The picture: a blue rounded square with a sparse 4×4 grid of white dots, three of them lit (a sparse code).
Run: python3 scripts/make-icons.py
"""
import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "public" / "icons"


def png(size: int) -> bytes:
    bg = (29, 78, 216)
    lit = (250, 204, 21)
    rows = []
    r_corner = size * 0.18
    cell = size / 5
    lit_cells = {(0, 1), (2, 3), (3, 0)}
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            # Rounded-square mask (transparent outside).
            cx = min(max(x + 0.5, r_corner), size - r_corner)
            cy = min(max(y + 0.5, r_corner), size - r_corner)
            inside = (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r_corner**2
            if not inside:
                row += bytes((0, 0, 0, 0))
                continue
            colour = bg
            # dots at grid positions 1..4 (offset by one cell margin)
            for j in range(4):
                for i in range(4):
                    dx = (x + 0.5) - cell * (i + 1)
                    dy = (y + 0.5) - cell * (j + 1)
                    if dx * dx + dy * dy <= (cell * 0.28) ** 2:
                        colour = lit if (i, j) in lit_cells else (255, 255, 255)
            row += bytes((*colour, 255))
        rows.append(bytes(row))
    raw = b"".join(rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for s in (192, 512):
        (OUT / f"icon-{s}.png").write_bytes(png(s))
        print(f"wrote {OUT / f'icon-{s}.png'}")
