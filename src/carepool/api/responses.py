"""A collection as JSON or CSV, and the open-data package that describes them all."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import pandas as pd
from fastapi.responses import JSONResponse, Response

from carepool.api.data import PublicData, Served
from carepool.publication import BY_NAME, COLLECTIONS, LICENCE

SOURCES = [
    {
        "title": "carepool's synthetic population of the region, calibrated to ONS, MHCLG and "
        "published NHS figures (see the data card)",
    },
    {
        "title": "Office for National Statistics, Ministry of Housing, Communities and Local "
        "Government: Open Government Licence v3.0"
    },
]


class Format(StrEnum):
    json = "json"
    csv = "csv"


def rows_response(
    name: str, rows: list[dict[str, Any]], fmt: Format, meta: dict[str, Any] | None = None
) -> Response:
    if fmt is Format.csv:
        frame = pd.DataFrame(rows)
        return Response(
            frame.to_csv(index=False, lineterminator="\n"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return JSONResponse({"collection": name, "count": len(rows), **(meta or {}), "rows": rows})


def served_response(served: Served, fmt: Format, meta: dict[str, Any] | None = None) -> Response:
    if fmt is Format.csv:
        return Response(
            served.csv,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{served.name}.csv"'},
        )
    return JSONResponse(
        {"collection": served.name, "count": len(served.rows), **(meta or {}), "rows": served.rows}
    )


FRICTIONLESS_TYPES = {
    "i": "integer",
    "u": "integer",
    "f": "number",
    "b": "boolean",
    "M": "datetime",
}


def field_type(series: pd.Series) -> str:
    return FRICTIONLESS_TYPES.get(series.dtype.kind, "string")


def datapackage(data: PublicData) -> dict[str, Any]:
    """A Frictionless data package: every published collection as a CSV resource, with its
    schema, primary key, licence and sources. Resource paths are relative to the package
    (``data/places.csv`` beside ``/api/datapackage.json``), never built from the request's
    Host header, which a client chooses."""
    resources = []
    for collection in COLLECTIONS:
        served = data.served.get(collection.name)
        if served is None:
            continue
        frame = served.frame
        fields = [{"name": str(c), "type": field_type(frame[c])} for c in frame.columns]
        key = [k for k in collection.key if k in frame.columns]
        resources.append(
            {
                "name": collection.name,
                "title": collection.title,
                "description": collection.description,
                "path": f"data/{collection.name}.csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {"fields": fields, **({"primaryKey": key} if key else {})},
            }
        )
    model, fund = data.meta("model"), data.meta("fund")
    return {
        "profile": "data-package",
        "name": "carepool-public-figures",
        "title": "The pooled health and social care fund: public figures",
        "description": f"Region {model.get('region')}, model years {model.get('years')}; "
        f"fund {fund.get('fund')}. Small numbers are suppressed (NHS hospital statistics "
        "rule).",
        "licenses": [LICENCE],
        "sources": SOURCES,
        "resources": resources,
    }


def described(name: str) -> str:
    return BY_NAME[name].description
