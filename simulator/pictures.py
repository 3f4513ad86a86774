"""The pictures behind the simulator's screenshot media ids: small PNGs drawn in pure Python.

WeChat's reviewers attach screenshots to a rejection, fetched with get_material (wechat-fleet.md
§6). The simulator draws one per media id, the same every time: a phone-shaped picture with a
title bar, a few content blocks and a red frame round the block the reviewer objected to, its
colours derived from the id (so two screenshots look different).
"""

import hashlib
import struct
import zlib

WIDTH, HEIGHT = 180, 320


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png(width: int, height: int, pixel) -> bytes:
    """An 8-bit RGB PNG; `pixel(x, y)` gives (r, g, b)."""
    rows = b"".join(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows, 9))
        + _chunk(b"IEND", b"")
    )


def screenshot(media_id: str) -> bytes:
    """The screenshot a simulated reviewer attached under `media_id`."""
    seed = hashlib.sha256(media_id.encode()).digest()
    accent = (seed[0] // 2 + 40, seed[1] // 2 + 60, seed[2] // 2 + 90)
    flagged = 1 + seed[3] % 3  # which content block the reviewer framed
    blocks = [(20 + i * 90, 90 + i * 90) for i in range(3)]

    def pixel(x: int, y: int) -> tuple[int, int, int]:
        if y < 36:
            return accent
        for number, (top, bottom) in enumerate(blocks, start=1):
            inside = 12 <= x < WIDTH - 12 and 48 + top - 20 <= y < 48 + bottom - 20
            if not inside:
                continue
            edge = x < 15 or x >= WIDTH - 15 or y < 48 + top - 17 or y >= 48 + bottom - 23
            if number == flagged and edge:
                return (220, 30, 30)
            return (232, 236, 240) if (y // 8) % 2 else (214, 220, 226)
        return (250, 250, 250)

    return png(WIDTH, HEIGHT, pixel)
