"""Public reads: every collection, a place's whole picture, the journal and its checkpoint,
the open-data package. Served from the materialised figures (:mod:`carepool.api.data`)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from carepool.api.data import PublicData
from carepool.api.responses import Format, datapackage, rows_response, served_response
from carepool.api.security import allowed
from carepool.errors import NotFound
from carepool.governance import Action

router = APIRouter(
    prefix="/api", tags=["public"], dependencies=[Depends(allowed(Action.READ_PUBLIC))]
)

PlaceCode = Annotated[str, Path(pattern=r"^[EWSN]\d{8}$", description="an ONS GSS code")]
FormatQuery = Annotated[Format, Query(description="json (default) or csv")]
Filter = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


def data_of(request: Request) -> PublicData:
    data: PublicData = request.app.state.data
    return data


Data = Annotated[PublicData, Depends(data_of)]


@router.get("/health", summary="Is the service up, and what does it serve?")
def health(data: Data) -> dict[str, Any]:
    model, fund = data.meta("model"), data.meta("fund")
    return {
        "status": "ok",
        "model": {k: model.get(k) for k in ("region", "scale", "seed", "years")} if model else None,
        "fund": {k: fund.get(k) for k in ("fund", "name", "year")} if fund else None,
    }


def _filtered(data: PublicData, name: str, fmt: Format, **filters: str | None) -> Response:
    served = data.collection(name)
    wanted = {k: v for k, v in filters.items() if v is not None}
    if not wanted:
        return served_response(served, fmt)
    place = wanted.pop("place", None)
    rows = served.by_place.get(place, []) if place is not None else served.rows
    rows = [r for r in rows if all(str(r.get(k)) == v for k, v in wanted.items())]
    return rows_response(name, rows, fmt)


@router.get("/places", summary="The places the pool is allocated to")
def places(data: Data, format: FormatQuery = Format.json) -> Response:
    return _filtered(data, "places", format)


@router.get("/places/{code}", summary="One place's whole picture")
def place(code: PlaceCode, data: Data) -> JSONResponse:
    found = data.collection("places").by_place.get(code)
    if not found:
        raise NotFound(f"no place {code} in the published figures")
    picture: dict[str, Any] = {"place": found[0]}
    for name in (
        "allocations",
        "allocation_steps",
        "indicators",
        "place_gaps",
        "neighbourhoods",
        "portfolio",
    ):
        served = data.served.get(name)
        picture[name] = served.by_place.get(code, []) if served is not None else []
    lines = data.served.get("fund_lines")
    picture["fund_lines"] = (
        [r for r in lines.rows if r.get("place") == code] if lines is not None else []
    )
    return JSONResponse(picture)


@router.get("/neighbourhoods", summary="Neighbourhoods: deprivation and outcomes (suppressed)")
def neighbourhoods(data: Data, place: Filter = None, format: FormatQuery = Format.json) -> Response:
    return _filtered(data, "neighbourhoods", format, place=place)


@router.get("/allocations", summary="Each place's allocation of the pool")
def allocations(data: Data, format: FormatQuery = Format.json) -> Response:
    return served_response(data.collection("allocations"), format, _allocation_meta(data))


def _allocation_meta(data: PublicData) -> dict[str, Any]:
    return {"allocation": data.meta("model").get("allocation")}


@router.get("/allocations/{code}", summary="Why one place got what it got")
def allocation(code: PlaceCode, data: Data) -> JSONResponse:
    rows = data.collection("allocations").by_place.get(code)
    if not rows:
        raise NotFound(f"no place {code} in the published allocation")
    steps = data.collection("allocation_steps").by_place.get(code, [])
    return JSONResponse({**rows[0], "steps": steps, **_allocation_meta(data)})


@router.get("/allocation_steps", summary="Every place's allocation, step by step")
def allocation_steps(
    data: Data, place: Filter = None, format: FormatQuery = Format.json
) -> Response:
    return _filtered(data, "allocation_steps", format, place=place)


@router.get("/indicators", summary="Outcomes with benchmarks (small numbers suppressed)")
def indicators(
    data: Data,
    place: Filter = None,
    indicator: Filter = None,
    period: Filter = None,
    format: FormatQuery = Format.json,
) -> Response:
    return _filtered(data, "indicators", format, place=place, indicator=indicator, period=period)


@router.get("/gaps", summary="The region against England, and inequality across deprivation")
def gaps(
    data: Data, indicator: Filter = None, period: Filter = None, format: FormatQuery = Format.json
) -> Response:
    return _filtered(data, "gaps", format, indicator=indicator, period=period)


@router.get("/place_gaps", summary="Inequality within each place (latest year)")
def place_gaps(data: Data, place: Filter = None, format: FormatQuery = Format.json) -> Response:
    return _filtered(data, "place_gaps", format, place=place)


@router.get("/interventions", summary="Prevention interventions appraised")
def interventions(data: Data, format: FormatQuery = Format.json) -> Response:
    return _filtered(data, "interventions", format)


@router.get("/intervention_partners", summary="Each intervention's costs and savings by partner")
def intervention_partners(
    data: Data, intervention: Filter = None, format: FormatQuery = Format.json
) -> Response:
    return _filtered(data, "intervention_partners", format, intervention=intervention)


@router.get("/portfolio", summary="The prevention portfolio chosen")
def portfolio(data: Data, place: Filter = None, format: FormatQuery = Format.json) -> Response:
    return _filtered(data, "portfolio", format, place=place)


@router.get("/portfolio_partners", summary="Each partner's share of the portfolio")
def portfolio_partners(data: Data, format: FormatQuery = Format.json) -> Response:
    return _filtered(data, "portfolio_partners", format)


@router.get("/fund", summary="The pooled fund: totals and who put in what")
def fund(data: Data) -> JSONResponse:
    meta = data.meta("fund")
    if not meta:
        data.collection("fund_lines")  # says how to publish it
    partners = data.collection("fund_partners").rows
    return JSONResponse(
        {
            "fund": meta.get("fund"),
            "name": meta.get("name"),
            "year": meta.get("year"),
            "totals": meta.get("totals"),
            "partners": partners,
        }
    )


@router.get("/fund_lines", summary="The fund's position line by line")
def fund_lines(
    data: Data,
    place: Filter = None,
    service: Filter = None,
    partner: Filter = None,
    format: FormatQuery = Format.json,
) -> Response:
    return _filtered(data, "fund_lines", format, place=place, service=service, partner=partner)


class PositionBy(StrEnum):
    place = "place"
    service = "service"
    partner = "partner"


@router.get("/fund_position", summary="The fund's position by place, service or partner")
def fund_position(
    data: Data,
    by: Annotated[PositionBy, Query(description="place, service or partner")] = PositionBy.place,
    format: FormatQuery = Format.json,
) -> Response:
    return served_response(data.collection(f"fund_by_{by.value}"), format)


@router.get("/fund_partners", summary="Who put in what, and their share of any overspend")
def fund_partners(data: Data, format: FormatQuery = Format.json) -> Response:
    return _filtered(data, "fund_partners", format)


@router.get("/decisions", summary="The decisions register")
def decisions(data: Data, format: FormatQuery = Format.json) -> Response:
    return _filtered(data, "decisions", format)


@router.get("/journal", summary="The public journal's entries (no payloads)")
def journal(data: Data, format: FormatQuery = Format.json) -> Response:
    return _filtered(data, "journal", format)


@router.get("/journal/export", summary="The published journal, to verify for yourself")
def journal_export(data: Data) -> FileResponse:
    return FileResponse(
        data.file("fund", "journal.jsonl"),
        media_type="application/x-ndjson",
        filename="journal.jsonl",
    )


@router.get("/journal/checkpoint", summary="The latest signed checkpoint of the journal")
def checkpoint(data: Data) -> JSONResponse:
    return JSONResponse(data.checkpoint())


@router.get("/journal/public-key", summary="The fund's public key, to check checkpoints")
def public_key(data: Data) -> FileResponse:
    return FileResponse(
        data.file("fund", "checkpoint.pub"), media_type="text/plain", filename="checkpoint.pub"
    )


@router.get("/datapackage.json", summary="Every collection as a Frictionless data package")
def package(data: Data) -> JSONResponse:
    return JSONResponse(datapackage(data))


@router.get("/data/{name}.csv", summary="One collection as CSV (the data package's resources)")
def collection_csv(name: Annotated[str, Path(pattern=r"^[a-z_]{1,40}$")], data: Data) -> Response:
    return served_response(data.collection(name), Format.csv)
