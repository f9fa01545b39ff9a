"""What each page shows, assembled from the published figures: plain dictionaries and
tables of formatted cells for the templates, and chart JSON. No figure is computed here
beyond arranging and formatting what was published."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from carepool.api import PublicData
from carepool.errors import NotFound
from carepool.web import charts

#: The outcomes on the home page: life expectancy, premature mortality (cancer is a
#: priority), emergency admissions, mental health and learning disabilities.
HEADLINE = (
    "life_expectancy_male",
    "life_expectancy_female",
    "u75_mortality_all_causes",
    "u75_mortality_cancer",
    "emergency_admissions",
    "talking_therapies_recovery",
    "ld_health_checks",
)
MAP_MEASURES = {
    "need_index": "Need per head of the place (1 = the region's average)",
    "imd_score": "Deprivation (IoD2025 score)",
    "emergency_admissions": "Emergency admissions per 100,000 (standardised)",
    "u75_mortality_all_causes": "Deaths under 75 per 100,000 (standardised)",
}


def humanise(code: str) -> str:
    """A service's code as words: ``adult_social_care`` → ``Adult social care``."""
    words = str(code).replace("_", " ").replace(".", " ").strip()
    return words[:1].upper() + words[1:]


def pounds(value: Any, digits: int = 0) -> str:
    if value is None:
        return "–"
    amount = float(value)
    sign = "−" if amount < 0 else ""
    if abs(amount) >= 1e9:
        return f"{sign}£{abs(amount) / 1e9:,.2f}bn"
    if abs(amount) >= 1e6:
        return f"{sign}£{abs(amount) / 1e6:,.1f}m"
    return f"{sign}£{abs(amount):,.{digits}f}"


def pence(value: Any) -> str:
    return "–" if value is None else pounds(int(value) / 100)


def number(value: Any, digits: int = 1) -> str:
    if value is None:
        return "not shown"
    return f"{float(value):,.{digits}f}"


def latest(rows: list[dict[str, Any]]) -> str | None:
    periods = [str(r["period"]) for r in rows if r.get("period") is not None]
    return max(periods) if periods else None


class Views:
    """Page contexts over one :class:`PublicData`, with the costly ones (the map) cached until
    the figures are published again."""

    def __init__(self, data: PublicData) -> None:
        self.data = data
        self._cache: dict[tuple[Any, ...], Any] = {}
        self._generation = -1
        self._lock = threading.Lock()

    def cached(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        with self._lock:
            if self._generation != self.data.generation:
                self._cache.clear()
                self._generation = self.data.generation
            if key in self._cache:
                return self._cache[key]
        value = build()
        with self._lock:
            self._cache[key] = value
        return value

    # -- pages ------------------------------------------------------------------------------

    def home(self) -> dict[str, Any]:
        return dict(self.cached(("home",), self._home))

    def _home(self) -> dict[str, Any]:
        data = self.data
        fund = data.meta("fund")
        totals = fund.get("totals") or {}
        model = data.meta("model")
        indicators = [r for r in data.rows("indicators") if r["level"] == "region"]
        period = latest(indicators)
        outcomes = [
            [
                r["indicator_name"],
                number(r["value"]),
                number(r["england_value"]),
                r["comparison"] or "–",
            ]
            for i in HEADLINE
            for r in indicators
            if r["indicator"] == i and r["period"] == period
        ]
        gaps = [
            [
                r["indicator_name"],
                number(r["value"]),
                f"{number(r['lower'])} to {number(r['upper'])}",
            ]
            for r in data.rows("gaps")
            if r["measure"] == "sii" and r["period"] == period and r["indicator"] in HEADLINE
        ]
        allocation = model.get("allocation") or {}
        return {
            "title": "Home",
            "fund_name": fund.get("name"),
            "fund_year": fund.get("year") or "the year",
            "pool": pounds(allocation.get("total")),
            "places": data.rows("places"),
            "spent": pence(totals.get("actual_pence")),
            "budget": pence(totals.get("budget_pence")),
            "decisions": len(data.rows("decisions")),
            "period": period or "the latest year",
            "outcomes": outcomes,
            "gaps": gaps,
        }

    def places(self, measure: str, query: str) -> dict[str, Any]:
        if measure not in MAP_MEASURES:
            measure = "need_index"
        need = {p["place"]: p["need_index"] for p in self.data.rows("places")}
        neighbourhoods = [
            {**n, "need_index": need.get(n["place"])} for n in self.data.rows("neighbourhoods")
        ]
        figure = self.cached(
            ("map", measure),
            lambda: charts.dumps(
                charts.neighbourhood_map(neighbourhoods, measure, MAP_MEASURES[measure], "")
            ),
        )
        allocations = {r["place"]: r for r in self.data.rows("allocations")}
        rows = [
            [
                p["name"],
                p["place"],
                f"{float(p['need_index']):.3f}",
                pounds(allocations.get(p["place"], {}).get("allocation_pounds")),
                pounds(allocations.get(p["place"], {}).get("per_head_pounds"), 2),
            ]
            for p in self.data.rows("places")
        ]
        missing = charts.unmapped([str(n["neighbourhood"]) for n in neighbourhoods])
        found = []
        text = query.strip().lower()[:64]
        if text:
            found = [
                n
                for n in neighbourhoods
                if text in str(n["name"]).lower()
                or text in str(n["neighbourhood"]).lower()
                or text in str(n["place_name"]).lower()
            ][:50]
        return {
            "title": "Places",
            "section": "/places",
            "charts": bool(neighbourhoods),
            "map": figure,
            "mapped": len(neighbourhoods) - missing,
            "unmapped": missing,
            "measure": measure,
            "measures": MAP_MEASURES,
            "places": rows,
            "query": query[:64],
            "found": found,
            "searched": bool(text),
        }

    def place(self, code: str) -> dict[str, Any]:
        found = [p for p in self.data.rows("places") if p["place"] == code]
        if not found:
            raise NotFound(f"no place {code} in the published figures")
        place = found[0]
        allocation = next((a for a in self.data.rows("allocations") if a["place"] == code), {})
        steps = [s for s in self.data.rows("allocation_steps") if s["place"] == code]
        indicators = [r for r in self.data.rows("indicators") if r["place"] == code]
        period = latest(indicators)
        region = {
            r["indicator"]: r
            for r in self.data.rows("indicators")
            if r["level"] == "region" and r["period"] == period
        }
        spine, outcome_rows = [], []
        for r in indicators:
            if r["period"] != period:
                continue
            england = r.get("england_value")
            value = r.get("value")
            region_value = region.get(r["indicator"], {}).get("value")
            difference = _percent(value, england)
            spine.append(
                {
                    "name": r["indicator_name"],
                    "difference": difference,
                    "region_difference": _percent(region_value, england),
                    "comparison": r.get("comparison"),
                }
            )
            interval = (
                f"{number(r['lower'])} to {number(r['upper'])}"
                if r.get("lower") is not None
                else "–"
            )
            outcome_rows.append(
                [
                    r["indicator_name"],
                    number(value),
                    interval,
                    number(region_value),
                    number(england),
                    r.get("comparison") or "–",
                ]
            )
        measure_names = {
            "place_minus_england": "Gap to England",
            "q1_minus_q5": "Most minus least deprived fifth",
            "sii": "Slope index across deprivation deciles",
        }
        inequality = [
            [
                g["indicator_name"],
                measure_names.get(g["measure"], g["measure"]),
                number(g["value"]),
                f"{number(g['lower'])} to {number(g['upper'])}"
                if g.get("lower") is not None
                else "–",
            ]
            for g in self.data.rows("place_gaps")
            if g["place"] == code
        ]
        lines = [line for line in self.data.rows("fund_lines") if line["place"] == code]
        neighbourhoods = [n for n in self.data.rows("neighbourhoods") if n["place"] == code]
        portfolio = [p for p in self.data.rows("portfolio") if p["place"] == code]
        return {
            "title": place["name"],
            "section": "/places",
            "charts": True,
            "place": place,
            "allocation": {
                k: pounds(v, 2 if "per_head" in k else 0)
                for k, v in allocation.items()
                if "pounds" in k
            },
            "steps": [
                [s["label"], pounds(s["change_pounds"]), pounds(s["running_total_pounds"])]
                for s in steps
            ],
            "waterfall": charts.dumps(
                charts.waterfall(steps, f"How {place['name']}'s allocation is built")
            )
            if steps
            else None,
            "period": period,
            "outcomes": outcome_rows,
            "spine": charts.dumps(charts.against_england(spine, "Outcomes against England"))
            if spine
            else None,
            "lines": [
                [
                    humanise(line["service"]),
                    line["partner_name"],
                    pence(line["budget_pence"]),
                    pence(line["actual_pence"]),
                    pence(line["forecast_pence"]),
                ]
                for line in lines
            ],
            "neighbourhoods": neighbourhoods,
            "inequality": inequality,
            "portfolio": [
                [
                    p["name"],
                    f"{float(p['share_of_cohort']):.0%}",
                    pence(p["cost_pence"]),
                    number(p["qalys"], 1),
                ]
                for p in portfolio
            ],
        }

    def fund(self) -> dict[str, Any]:
        meta = self.data.meta("fund")
        lines = self.data.rows("fund_lines")
        by_service: dict[str, dict[str, Any]] = {}
        for line in lines:
            entry = by_service.setdefault(
                line["service"], {"service": line["service"], "budget_pence": 0, "actual_pence": 0}
            )
            entry["budget_pence"] += int(line["budget_pence"] or 0)
            entry["actual_pence"] += int(line["actual_pence"] or 0)
        services = sorted(by_service.values(), key=lambda e: e["service"])
        return {
            "title": "The pooled fund",
            "section": "/fund",
            "charts": bool(services),
            "meta": meta,
            "totals": {
                k: pence(v) for k, v in (meta.get("totals") or {}).items() if k.endswith("_pence")
            },
            "partners": [
                [
                    p["name"],
                    p["kind"].replace("_", " "),
                    pence(p["contributed_pence"]),
                    pence(p["settlement_pence"]),
                ]
                for p in self.data.rows("fund_partners")
            ],
            "services": [
                [humanise(s["service"]), pence(s["budget_pence"]), pence(s["actual_pence"])]
                for s in services
            ],
            "services_chart": charts.dumps(
                charts.fund_by_service(services, "Budget and spend by service")
            )
            if services
            else None,
            "rules": meta.get("rules") or [],
            "virements": [
                d
                for d in self.data.rows("decisions")
                if "virement" in str(d.get("subject", "")).lower()
            ],
        }

    def decisions(self) -> dict[str, Any]:
        return {
            "title": "Decisions register",
            "section": "/decisions",
            "decisions": self.data.rows("decisions"),
        }

    def journal(self) -> dict[str, Any]:
        try:
            checkpoint = self.data.checkpoint()
        except NotFound:
            checkpoint = None
        rows = self.data.rows("journal")
        return {
            "title": "The public journal",
            "section": "/journal",
            "checkpoint": checkpoint,
            "entries": rows[-50:][::-1],
            "count": len(rows),
            "fund": self.data.meta("fund"),
        }

    def prevention(self) -> dict[str, Any]:
        names = {p["place"]: p["name"] for p in self.data.rows("places")}
        return {
            "title": "Prevention",
            "section": "/prevention",
            "interventions": self.data.rows("interventions"),
            "portfolio": [
                {**p, "place_name": names.get(p["place"], p["place"])}
                for p in self.data.rows("portfolio")
            ],
            "partners": self.data.rows("portfolio_partners"),
        }


def _percent(value: Any, england: Any) -> float | None:
    if value is None or england is None or float(england) == 0:
        return None
    return round((float(value) / float(england) - 1) * 100, 1)
