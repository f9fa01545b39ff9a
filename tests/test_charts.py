"""Chart layout helpers: axes that fit the data, labels that never cover each other."""

from __future__ import annotations

from itertools import combinations

from hypothesis import given
from hypothesis import strategies as st

from carepool.charts import label_box, padded_range, place_labels, plot_area, to_pixels


def test_an_axis_fits_small_changes_and_keeps_zero() -> None:
    low, high = padded_range([-3.0, 1.5, 2.0], keep=(0.0, -2.0))
    assert -3.6 < low < -3.0
    assert 2.0 < high < 2.6


def test_a_crowded_point_is_left_unlabelled_rather_than_overlapped() -> None:
    xs, ys = [0.0] * 12, [0.0] * 12
    labels = place_labels(xs, ys, ["Manchester"] * 12, [-1, 1], [-1, 1])
    assert labels.count(None) >= 4
    assert labels[0] == "top center"


@given(
    st.lists(
        st.tuples(st.floats(-5, 5), st.floats(-5, 5), st.text("abcdefghij", max_size=12)),
        max_size=40,
    )
)
def test_labels_placed_never_overlap_each_other_or_leave_the_plot(
    points: list[tuple[float, float, str]],
) -> None:
    xs, ys, texts = [p[0] for p in points], [p[1] for p in points], [p[2] for p in points]
    ranges = ([-6.0, 6.0], [-6.0, 6.0])
    chosen = place_labels(xs, ys, texts, *ranges)
    pixels = to_pixels(xs, ys, *ranges)
    boxes = [
        label_box(px, py, text, position)
        for (px, py), text, position in zip(pixels, texts, chosen, strict=True)
        if position is not None
    ]
    width, height = plot_area()
    assert all(box.inside(width, height) for box in boxes)
    assert not any(a.overlaps(b) for a, b in combinations(boxes, 2))
