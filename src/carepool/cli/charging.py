"""``carepool charge``: what one person pays for their care and what the council pays, each
week and over the years as their capital runs down, under today's means test or a reform."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from carepool.charging import POLICIES, WEEKS_A_YEAR, Charge, Person, charge, charging_rules
from carepool.cli.support import out, warn
from carepool.errors import ChargingError, LedgerError
from carepool.ledger import parse_amount, pounds


class Setting(StrEnum):
    care_home = "care-home"
    community = "community"


class Policy(StrEnum):
    means_test = "means-test"
    raised_limits = "raised-limits"
    cap = "cap"
    free_personal_care = "free-personal-care"


def _pence(text: str, field: str, *, allow_zero: bool = True) -> int:
    """Pounds typed on the command line (``1,100`` or ``1100.50``) as pence."""
    try:
        return parse_amount(text, field, allow_zero=allow_zero)
    except LedgerError as exc:
        reason = str(exc)
        if "fraction of a penny" in reason:
            raise ChargingError(f"{field}: {text!r:.40} has a fraction of a penny") from None
        if "larger than" in reason:
            raise ChargingError(
                f"{field}: {text!r:.40} is larger than any figure a person has"
            ) from None
        least = "more than £0" if not allow_zero else "£0 or more"
        raise ChargingError(
            f"{field}: expected an amount in pounds of {least} (such as 1,250.50), not {text!r:.40}"
        ) from None


def charge_command(
    setting: Annotated[Setting, typer.Option("--setting", help="where the care is given")],
    cost: Annotated[
        str,
        typer.Option(
            "--cost", metavar="POUNDS", help="the care's cost a week, at the rate the council pays"
        ),
    ],
    savings: Annotated[
        str, typer.Option("--savings", metavar="POUNDS", help="savings and other capital")
    ] = "0",
    home: Annotated[
        str,
        typer.Option(
            "--property", metavar="POUNDS", help="the home's value, less any loan secured on it"
        ),
    ] = "0",
    home_disregarded: Annotated[
        bool,
        typer.Option(
            "--partner-at-home",
            help="a partner or qualifying relative lives in the home, so it is never counted",
        ),
    ] = False,
    income: Annotated[
        str, typer.Option("--income", metavar="POUNDS", help="weekly income: pensions, benefits")
    ] = "0",
    disregarded: Annotated[
        str,
        typer.Option(
            "--disregarded-income",
            metavar="POUNDS",
            help="the part of the weekly income the regulations ignore",
        ),
    ] = "0",
    disability: Annotated[
        str,
        typer.Option(
            "--disability-costs",
            metavar="POUNDS",
            help="at home: disability-related expenditure a week, which is kept",
        ),
    ] = "0",
    housing: Annotated[
        str,
        typer.Option("--housing-costs", metavar="POUNDS", help="at home: rent or mortgage a week"),
    ] = "0",
    age: Annotated[int, typer.Option("--age", help="age in years (18 to 120)")] = 75,
    metered: Annotated[
        str,
        typer.Option(
            "--towards-cap", metavar="POUNDS", help="what the person has put towards a cap so far"
        ),
    ] = "0",
    policy: Annotated[
        Policy, typer.Option("--policy", help="the charging rules to apply")
    ] = Policy.means_test,
    compare: Annotated[bool, typer.Option("--compare", help="every policy side by side")] = False,
    year: Annotated[
        str, typer.Option("--year", help="the financial year whose thresholds apply")
    ] = "2026-27",
    years: Annotated[
        int, typer.Option("--years", help="years of capital running down to show (1 to 50)")
    ] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """What one person pays for their care and what the council pays: each week, and year by
    year as their capital runs down. Amounts are in pounds."""
    if not 1 <= years <= 50:
        raise ChargingError(f"years: expected a whole number from 1 to 50, not {years}")
    person = Person(
        setting=setting.value,
        weekly_cost_pence=_pence(cost, "cost", allow_zero=False),
        savings_pence=_pence(savings, "savings"),
        property_pence=_pence(home, "property"),
        property_disregarded=home_disregarded,
        weekly_income_pence=_pence(income, "income"),
        disregarded_income_pence=_pence(disregarded, "disregarded income"),
        disability_related_expenditure_pence=_pence(disability, "disability costs"),
        housing_costs_pence=_pence(housing, "housing costs"),
        age=age,
        metered_pence=_pence(metered, "towards cap"),
    )
    for note in _ignored(person, policies=POLICIES if compare else (policy.value,)):
        warn(note)
    policies = POLICIES if compare else (policy.value,)
    answers = [
        charge(person, charging_rules(year, name), weeks=years * WEEKS_A_YEAR) for name in policies
    ]
    if as_json:
        records = [answer.record() for answer in answers]
        typer.echo(json.dumps(records if compare else records[0], indent=2))
        return
    if compare:
        _print_comparison(answers)
    else:
        _print_charge(answers[0])


def _ignored(person: Person, policies: tuple[str, ...]) -> list[str]:
    """What the person's figures include that the rules do not count, said rather than
    silently dropped."""
    notes = []
    if person.setting == "care-home" and (
        person.housing_costs_pence or person.disability_related_expenditure_pence
    ):
        notes.append(
            "--housing-costs and --disability-costs count only outside a care home (a resident "
            "keeps the personal expenses allowance instead)"
        )
    if person.setting == "community" and person.property_pence:
        notes.append("--property: the home is never counted for care outside a care home")
    if person.metered_pence and not any(p in ("cap", "free-personal-care") for p in policies):
        notes.append("--towards-cap: counts only under a cap (--policy cap)")
    return notes


def _support(answer: Charge) -> str:
    weeks = answer.weeks_until_council_support
    if weeks is None:
        return "not within the years shown"
    if weeks == 0:
        return "from the first week"
    return f"from week {weeks + 1}, after {weeks} weeks (year {weeks // WEEKS_A_YEAR + 1})"


def _print_charge(answer: Charge) -> None:
    rules = answer.rules
    out.print(
        f"Rules: {rules.version} (upper capital limit {pounds(rules.upper_capital_limit_pence)}, "
        f"lower {pounds(rules.lower_capital_limit_pence)}"
        + (f", cap {pounds(rules.cap_pence)}" if rules.cap_pence is not None else "")
        + ")"
    )
    out.print(
        f"Care costs {pounds(answer.weekly_cost_pence)} a week. In the first week the "
        f"person pays {pounds(answer.person_pays_pence)} and the council "
        f"{pounds(answer.council_pays_pence)} (tariff income "
        f"{pounds(answer.tariff_income_pence)})."
    )
    out.print(f"The council pays towards the care every week {_support(answer)}.")
    older = sorted(
        {year for year in rules.read_for.values() if year not in ("all years", rules.year)}
    )
    if older:
        out.print(
            f"Not every threshold is vendored for {rules.year}: those published for "
            f"{', '.join(older)} are used (the latest at or before it, else the earliest after)."
        )
    table = Table(title="Year by year, at today's prices")
    for name in ("year", "person pays", "council pays", "capital left", "towards the cap"):
        table.add_column(name, justify="right")
    for row in answer.years:
        table.add_row(
            str(row.year),
            pounds(row.person_pays_pence),
            pounds(row.council_pays_pence),
            pounds(row.capital_left_pence),
            pounds(row.metered_pence) if rules.cap_pence else "",
        )
    out.print(table)


def _print_comparison(answers: list[Charge]) -> None:
    table = Table(title=f"Every policy, {answers[0].rules.year} thresholds")
    for name in (
        "policy",
        "person pays in week 1",
        "council pays in week 1",
        "person pays in all",
        "council pays in all",
        "council support",
    ):
        table.add_column(name, justify="left" if name in ("policy", "council support") else "right")
    for answer in answers:
        table.add_row(
            answer.rules.policy,
            pounds(answer.person_pays_pence),
            pounds(answer.council_pays_pence),
            pounds(sum(row.person_pays_pence for row in answer.years)),
            pounds(sum(row.council_pays_pence for row in answer.years)),
            _support(answer),
        )
    out.print(table)
