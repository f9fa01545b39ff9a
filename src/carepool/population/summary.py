"""The model's headline summary: residents, places, cost by service and borough, deprivation.

Computed through the warehouse's expression layer, so it runs on either engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import ibis
import pandas as pd

from carepool.warehouse import Tables


@dataclass(frozen=True)
class Summary:
    region: str
    region_name: str
    scale: float
    seed: int
    year: str
    years: list[str]
    residents: int
    places: dict[str, int]
    by_lad: list[dict[str, Any]]
    by_service: list[dict[str, Any]]
    by_payer: list[dict[str, Any]]
    deprivation: list[dict[str, Any]]
    deaths: int
    cost_pence: int  # public money (NHS and councils) on the modelled services
    residents_pence: int  # residents' own money: client charges and self-funded care

    def as_json(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "region_name": self.region_name,
            "scale": self.scale,
            "seed": self.seed,
            "year": self.year,
            "years": self.years,
            "residents": self.residents,
            "places": self.places,
            "deaths": self.deaths,
            "cost_pence": self.cost_pence,
            "residents_pence": self.residents_pence,
            "by_lad": self.by_lad,
            "by_service": self.by_service,
            "by_payer": self.by_payer,
            "deprivation": self.deprivation,
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts (a query result, small by construction)."""
    return cast(list[dict[str, Any]], frame.to_dict(orient="records"))


def model_summary(engine: Tables, manifest: dict[str, Any]) -> Summary:
    """Summarise the first modelled year of the warehouse described by ``manifest``."""
    year = str(manifest["years"][0])
    py = engine.table("person_year")
    lsoa = engine.table("lsoa")
    costs = engine.table("activity_cost")
    people = py.filter(py.year == year)
    spend = costs.filter(costs.year == year)

    lads = engine.to_pandas(lsoa.select("lad_code", "lad_name").distinct().order_by("lad_code"))
    residents = engine.to_pandas(
        people.group_by("lad_code").aggregate(
            residents=people.count(), deaths=people.died.cast("int64").sum()
        )
    ).set_index("lad_code")
    public = spend.payer_kind != "self"
    cost = engine.to_pandas(
        spend.group_by("lad_code").aggregate(
            cost_pence=spend.cost_pence.sum(where=public),
            residents_pence=spend.cost_pence.sum(where=~public),
        )
    ).set_index("lad_code")
    counts = residents["residents"].to_dict()
    pence = cost["cost_pence"].fillna(0).to_dict()
    own = cost["residents_pence"].fillna(0).to_dict()
    by_lad: list[dict[str, Any]] = [
        {
            "code": str(row["lad_code"]),
            "name": str(row["lad_name"]),
            "residents": int(counts.get(row["lad_code"], 0)),
            "cost_pence": int(pence.get(row["lad_code"], 0)),
            "residents_pence": int(own.get(row["lad_code"], 0)),
        }
        for row in _records(lads)
    ]
    services = engine.to_pandas(
        spend.group_by("service")
        .aggregate(activity=spend.activity.sum(), cost_pence=spend.cost_pence.sum())
        .order_by([ibis.desc("cost_pence"), "service"])
    )
    payers = engine.to_pandas(
        spend.group_by("payer_kind")
        .aggregate(cost_pence=spend.cost_pence.sum())
        .order_by("payer_kind")
    )
    quintiles = engine.to_pandas(
        people.group_by("imd_quintile").aggregate(residents=people.count()).order_by("imd_quintile")
    )
    total_residents = int(residents["residents"].sum())
    return Summary(
        region=str(manifest["region"]),
        region_name=str(manifest.get("region_name", manifest["region"])),
        scale=float(manifest["scale"]),
        seed=int(manifest["seed"]),
        year=year,
        years=[str(y) for y in manifest["years"]],
        residents=total_residents,
        places={k: int(v) for k, v in manifest["places"].items()},
        by_lad=by_lad,
        by_service=[
            {
                "service": str(r["service"]),
                "activity": int(r["activity"]),
                "cost_pence": int(r["cost_pence"]),
            }
            for r in _records(services)
        ],
        by_payer=[
            {"payer_kind": str(r["payer_kind"]), "cost_pence": int(r["cost_pence"])}
            for r in _records(payers)
        ],
        deprivation=[
            {
                "imd_quintile": int(r["imd_quintile"]),
                "residents": int(r["residents"]),
                "share": round(int(r["residents"]) / max(total_residents, 1), 4),
            }
            for r in _records(quintiles)
        ],
        deaths=int(residents["deaths"].sum()),
        cost_pence=sum(int(item["cost_pence"]) for item in by_lad),
        residents_pence=sum(int(item["residents_pence"]) for item in by_lad),
    )
