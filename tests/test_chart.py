"""core.chart: a valid PNG, sized for a phone, with the labels' bars drawn."""

from __future__ import annotations

import io
import random

from PIL import Image

from core.chart import DPI, MAX_LABELS, WIDTH_INCHES, render_chart

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def rows(labels: dict[str, int], seed: int = 1) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    return [(label, "w" * rng.randint(20, 200)) for label, n in labels.items() for _ in range(n)]


def opened(png: bytes) -> Image.Image:
    assert png.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(png))
    image.verify()  # checks the chunks' CRCs: a truncated or corrupt file fails here
    return Image.open(io.BytesIO(png)).convert("RGB")


def blue_pixels(image: Image.Image) -> int:
    # The bars' colour (#3b7dd8), give or take antialiasing.
    return sum(1 for r, g, b in image.getdata() if abs(r - 0x3B) < 12 and abs(g - 0x7D) < 12 and abs(b - 0xD8) < 12)


def test_chart_is_a_valid_png_a_phone_shows_full_width() -> None:
    image = opened(render_chart(rows({"positive": 120, "negative": 40, "neutral": 80}), "Hotel reviews"))
    assert image.width == round(WIDTH_INCHES * DPI)
    assert image.height > image.width  # portrait: scrolls on a phone instead of shrinking
    assert blue_pixels(image) > 5_000


def test_bars_grow_with_the_rows() -> None:
    small = opened(render_chart(rows({"a": 10, "b": 10}), "t"))
    lopsided = opened(render_chart(rows({"a": 10, "b": 1000}), "t"))
    # Same layout; the longest bar fills the axis either way, so "a" shrinks: less blue in total.
    assert blue_pixels(lopsided) < blue_pixels(small)


def test_many_labels_are_grouped_and_no_rows_still_draws() -> None:
    many = {f"intent_{i}": 5 + i for i in range(40)}
    image = opened(render_chart(rows(many), "Intents"))
    assert image.height < round((3.2 + 0.9 * (MAX_LABELS + 1)) * DPI)  # not 40 bands tall
    assert opened(render_chart([], "")).width == round(WIDTH_INCHES * DPI)
    assert opened(render_chart([("", "What is the capital of Poland?")], "Quiz")).width > 0
