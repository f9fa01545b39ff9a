"""The validation chart with England's 296 councils: the failures' bands stand out."""

from __future__ import annotations

from carepool.model.boroughs import CALIBRATED, BoroughCheck, BoroughValidation
from carepool.model.validation_chart import CROWDED, validation_figure


def _check(code: int, model: float) -> BoroughCheck:
    return BoroughCheck(
        check="life_expectancy_male",
        area_code=f"E0700{code:04d}",
        area_name=f"Council {code}",
        model=model,
        sampling_se=0.2,
        published=79.0,
        structural=1.0,
        unit="years",
        period="2021-23",
        source="test",
        basis=CALIBRATED,
    )


def _bands(councils: int) -> dict[str, dict[str, object]]:
    """Each trace's error bars (the pass bands) by the trace's name, for ``councils`` councils
    of which every tenth is outside its band."""
    checks = [_check(i, 79.0 if i % 10 else 85.0) for i in range(councils)]
    figure = validation_figure(BoroughValidation(checks, []), "Test")
    return {
        str(trace.name): trace.error_y.to_plotly_json()
        for trace in figure.data
        if trace.error_y is not None and trace.error_y.array is not None
    }


def test_a_crowded_panel_draws_the_passes_bands_faint_and_the_failures_in_full() -> None:
    crowded = _bands(CROWDED + 1)
    assert crowded["within its band"]["width"] == 0
    assert "0.25" in str(crowded["within its band"]["color"])
    assert "color" not in crowded["outside its band"]  # the failures' bands as they always were
    few = _bands(10)
    assert "color" not in few["within its band"]
    assert "width" not in few["within its band"]


def test_each_kind_of_point_is_in_the_legend_once_even_where_the_first_panel_has_none() -> None:
    passing = [_check(i, 79.0) for i in range(5)]
    failing = [
        BoroughCheck(**{**vars(_check(i, 90.0)), "check": "life_expectancy_female"})
        for i in range(3)
    ]
    figure = validation_figure(BoroughValidation(passing + failing, []), "Test")
    shown = [trace.name for trace in figure.data if trace.showlegend]
    assert sorted(shown) == ["model = published", "outside its band", "within its band"]
