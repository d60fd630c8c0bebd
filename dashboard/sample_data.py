"""A seeded, deterministic generator of SYNTHETIC extracts that follow the data contract.

Calibrated on published England and Wales figures (see the project's reference figures) so rates,
sizes and shapes look like real prisons, with modest, noisy programme effects built in. The truth
behind the noise is written to `generator_truth.json`, so tests can check the dashboard finds it.

    python -m dashboard.sample_data --out data/sample [--seed N] [--comparison-prisons N] [--volume X]
                                    [--conversation-prisons N]

`volume` multiplies incident rates and cohorts per year; with the number of comparison prisons it
scales the data for benchmarks (115 comparison prisons at volume 8 give over 10 million incidents),
and `conversation_prisons` rolls The Conversation out to more prisons (and survey answers with it).
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from dashboard.contract import INCIDENT_TYPES, MODELS_BY_TABLE, SERVICE_CATEGORIES, SURVEY_ITEMS, column_specs

DEFAULT_SEED = 20191203

# (code, name, type, region, people held): the five programme prisons, then real comparison
# establishments of the same two types. Only the names are real: every figure is synthetic.
PROGRAMME_PRISONS = [
    ("WSI", "HMP Wormwood Scrubs", "Category B local", "London", 1180),
    ("PVI", "HMP Pentonville", "Category B local", "London", 1250),
    ("EXI", "HMP Exeter", "Category B local", "South West", 460),
    ("DAI", "HMP Dartmoor", "Category C training", "South West", 640),
    ("GMI", "HMP Guys Marsh", "Category C training", "South West", 510),
]
COMPARISON_PRISONS = [
    ("BLI", "HMP Bristol", "Category B local", "South West", 600),
    ("CWI", "HMP Channings Wood", "Category C training", "South West", 720),
    ("WWI", "HMP Wandsworth", "Category B local", "London", 1550),
    ("EEI", "HMP Erlestoke", "Category C training", "South West", 520),
    ("BMI", "HMP Birmingham", "Category B local", "West Midlands", 1300),
    ("RNI", "HMP Ranby", "Category C training", "East Midlands", 1050),
    ("LEI", "HMP Leeds", "Category B local", "Yorkshire and the Humber", 1150),
    ("SKI", "HMP Stocken", "Category C training", "East Midlands", 1000),
    ("LPI", "HMP Liverpool", "Category B local", "North West", 1000),
    ("HVI", "HMP Haverigg", "Category C training", "North West", 580),
    ("NWI", "HMP Norwich", "Category B local", "East of England", 750),
    ("HPI", "HMP Highpoint", "Category C training", "East of England", 1300),
    ("WCI", "HMP Winchester", "Category B local", "South East", 650),
    ("WEI", "HMP Wealstun", "Category C training", "Yorkshire and the Humber", 800),
    ("CFI", "HMP Cardiff", "Category B local", "Wales", 780),
    ("LWI", "HMP Lewes", "Category B local", "South East", 620),
    ("WYI", "HMP Wayland", "Category C training", "East of England", 950),
    ("DMI", "HMP Durham", "Category B local", "North East", 980),
]
# Comparison prisons known only from published figures (no wings, no row-level incidents): counts by
# quarter or by year to March and a monthly population, as the Safety in Custody tables and the
# population bulletin give them. The last one's figures stop at the end of 2021.
PUBLISHED_ONLY_PRISONS = [
    ("BFI", "HMP Bedford", "Category B local", "East of England", 480, 3, None),
    ("NMI", "HMP Nottingham", "Category B local", "East Midlands", 1000, 12, None),
    ("SFI", "HMP Stafford", "Category C training", "West Midlands", 750, 3, date(2021, 12, 31)),
]
REGIONS = ["London", "South West", "South East", "East of England", "East Midlands", "West Midlands",
           "North West", "North East", "Yorkshire and the Humber", "Wales"]

# Annual incidents per 1,000 prisoners by prison type, before prison and wing heterogeneity.
BASE_RATES = {
    "Category B local": {"assault_on_staff": 120, "prisoner_on_prisoner_assault": 270, "self_harm": 520, "use_of_force": 700},
    "Category C training": {"assault_on_staff": 75, "prisoner_on_prisoner_assault": 180, "self_harm": 360, "use_of_force": 450},
}
SERIOUS_SHARE = {"assault_on_staff": 0.11, "prisoner_on_prisoner_assault": 0.11, "self_harm": 0.05, "use_of_force": 0.02}
HOTTER = {"WSI": 1.25, "PVI": 1.3, "EXI": 1.35}
EXI_PRISONER_ASSAULTS = 1.5  # Exeter's prisoner-on-prisoner assault rate was the highest seen in a local

PROGRAMME_EFFECT = {"assault_on_staff": 0.75, "prisoner_on_prisoner_assault": 0.75, "self_harm": 1.0, "use_of_force": 0.75}
EFFECT_MONTHS = 12
GPP_PRISONS = ("DAI", "EXI", "GMI")
GPP_PERIOD = (date(2016, 9, 1), date(2017, 10, 31))
GPP_SELF_HARM = 0.85
GPP_EFFECT_UNTIL = date(2018, 10, 31)  # the coordinator period and 12 months after it

SESSION_OFFSETS = (0, 31, 63)  # three workshops across 9 weeks
CANCELLATION_REASONS = ("regime lockdown", "staff shortage", "low attendance", "facilitator illness")
ITEM_CHANGE_OFFSET = {"empathy": 0.15, "understanding_other_side": 0.15, "relationship_quality": 0.05, "trust": 0.0,
                      "feeling_safe": -0.2, "wing_culture": -0.05, "hope": -0.1}
ROLE_CHANGE = {"prisoner": 0.5, "staff": 0.35}
ATTENDANCE = {"prisoner": (0.92, 0.86, 0.80), "staff": (0.88, 0.78, 0.70)}
PROVIDERS = ["Bridge Housing Trust", "Second Chance Works", "Open Door Recovery", "Family Links South West",
             "Moneywise Advice", "Pathways Mentoring", "Arts in Custody Collective", "Faith and Community Network",
             "Devon Employment Partnership", "Wellbeing Together", "Veterans in Transition", "New Leaf Learning",
             "Carers and Kin", "Next Steps Foundation", "Restore Debt Advice", "Hope Street Housing"]
PROTECTED = ["women", "older prisoners", "young adults", "BAME", "veterans", "disability", "LGBT+", "foreign nationals"]


def _months(start: date, end: date) -> pd.DatetimeIndex:
    return pd.date_range(start, end, freq="MS")


def _prisons(n_comparison: int) -> pd.DataFrame:
    rows = list(PROGRAMME_PRISONS) + COMPARISON_PRISONS[:n_comparison]
    for i in range(len(COMPARISON_PRISONS), n_comparison):
        kind = "Category B local" if i % 2 == 0 else "Category C training"
        rows.append((f"C{i + 1:02d}", f"HMP Comparison {i + 1:03d}", kind, REGIONS[i % len(REGIONS)], 500 + (i * 37) % 900))
    return pd.DataFrame(rows, columns=["prison_id", "name", "prison_type", "region", "operational_capacity"])


def _wings(rng, prisons: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for p in prisons.itertuples():
        n = int(np.clip(round(p.operational_capacity / 140), 4, 9))
        shares = rng.dirichlet(np.full(n, 8.0))
        for i, share in enumerate(shares):
            letter = chr(ord("A") + i)
            rows.append((f"{p.prison_id}-{letter}", p.prison_id, f"{letter} Wing", int(round(p.operational_capacity * share))))
    return pd.DataFrame(rows, columns=["wing_id", "prison_id", "wing_name", "capacity"])


def _wing_population(rng, wings: pd.DataFrame, months: pd.DatetimeIndex) -> pd.DataFrame:
    n_w, n_m = len(wings), len(months)
    drift = np.cumsum(rng.normal(0, 0.006, (n_w, n_m)), axis=1)
    occupancy = np.clip(0.95 + drift + rng.normal(0, 0.015, (n_w, n_m)), 0.75, 1.05)
    population = np.round(wings["capacity"].to_numpy()[:, None] * occupancy, 1)
    return pd.DataFrame({
        "wing_id": np.repeat(wings["wing_id"].to_numpy(), n_m),
        "month": np.tile(months.date, n_w),
        "average_population": population.ravel(),
    })


def _cohort_plan(rng, prisons: pd.DataFrame, wings: pd.DataFrame, volume: float, start: date, end: date,
                 conversation_prisons: int = 2):
    """Where and when cohorts start: WSI and PVI from 2017, EXI from 2021, two comparison prisons
    (Category B locals) from 2022; for a national roll-out, `conversation_prisons` beyond two take
    it up too, from 2018 to 2022."""
    comparison = prisons.loc[prisons.index >= len(PROGRAMME_PRISONS)]
    comparison_b = comparison.loc[comparison["prison_type"] == "Category B local", "prison_id"]
    starts = {"WSI": 2017, "PVI": 2017, "EXI": 2021}
    for code in comparison_b.head(min(2, conversation_prisons)):
        starts[code] = 2022
    later = [code for code in comparison["prison_id"] if code not in starts][: max(0, conversation_prisons - 2)]
    for i, code in enumerate(later):
        starts[code] = 2018 + i % 5
    sdms = {"WSI": ["Amira K.", "Priya S."], "PVI": ["Tom B.", "Priya S."], "EXI": ["Grace O."]}
    rows, programme_wings = [], []
    for prison_id, first_year in starts.items():
        first_year = max(first_year, start.year)
        span_days = (end - timedelta(days=30) - date(first_year, 1, 1)).days
        if span_days <= 0:
            continue
        prison_wings = wings.loc[wings["prison_id"] == prison_id, "wing_id"].to_numpy()
        chosen = sorted(rng.choice(prison_wings, size=int(np.ceil(len(prison_wings) / 2)), replace=False))
        programme_wings += chosen
        n = max(1, int(round(span_days / 365.25 * 3 * volume)))
        offsets = np.sort(rng.uniform(0, span_days, n)).astype(int)
        for i, offset in enumerate(offsets):
            starts_on = date(first_year, 1, 1) + timedelta(days=int(offset))
            names = sdms.get(prison_id, ["Daniel R."])
            sdm = names[i % len(names)] if starts_on.year >= 2021 else names[0]
            rows.append({
                "cohort_id": f"C-{prison_id}-{starts_on.year}-{i + 1:02d}",
                "prison_id": prison_id,
                "wing_id": chosen[i % len(chosen)],
                "sdm": sdm,
                "start_date": starts_on,
                "cost_gbp": float(round(rng.uniform(3000, 6000), -1)) if rng.random() > 0.05 else None,
            })
    return pd.DataFrame(rows), programme_wings


def _workshops(rng, cohorts: pd.DataFrame, end: date) -> tuple[pd.DataFrame, set[str]]:
    rows, cancelled_cohorts = [], set()
    n_cancel = min(3, max(2, len(cohorts) // 30)) if len(cohorts) > 12 else 0
    # Whole cohorts abandoned after session 1 or 2 (never among the last ten, which may be unfinished).
    abandoned = dict(zip(rng.choice(max(1, len(cohorts) - 10), size=n_cancel, replace=False), rng.integers(2, 4, n_cancel)))
    for index, c in enumerate(cohorts.itertuples()):
        for session, offset in enumerate(SESSION_OFFSETS, start=1):
            scheduled = c.start_date + timedelta(days=offset + int(rng.integers(-2, 3)) * (session > 1))
            if scheduled > end:
                break
            workshop_id = f"{c.cohort_id}-W{session}"
            duration = float(rng.choice([2.5, 2.0, 3.0], p=[0.9, 0.05, 0.05]))
            base = {"workshop_id": workshop_id, "cohort_id": c.cohort_id, "session_number": session,
                    "scheduled_on": scheduled, "delivered_on": None, "cancellation_reason": None, "duration_hours": duration}
            if index in abandoned and session >= abandoned[index]:
                reason = CANCELLATION_REASONS[int(rng.integers(0, 2))]
                rows.append({**base, "status": "cancelled", "cancellation_reason": reason})
                cancelled_cohorts.add(c.cohort_id)
                continue
            roll = rng.random()
            if roll < 0.08:
                rows.append({**base, "status": "rescheduled"})
                new_date = scheduled + timedelta(days=int(rng.integers(7, 15)))
                if new_date <= end:
                    rows.append({**base, "workshop_id": workshop_id + "R", "scheduled_on": new_date,
                                 "status": "delivered", "delivered_on": new_date})
            elif roll < 0.13:
                reason = str(rng.choice(CANCELLATION_REASONS, p=[0.45, 0.35, 0.1, 0.1]))
                rows.append({**base, "status": "cancelled", "cancellation_reason": reason})
            else:
                rows.append({**base, "status": "delivered", "delivered_on": scheduled + timedelta(days=int(rng.random() < 0.1))})
    return pd.DataFrame(rows), cancelled_cohorts


def _participants_attendance(rng, cohorts: pd.DataFrame, workshops: pd.DataFrame):
    people, attendance = [], []
    next_id = 1
    delivered = workshops[workshops["status"] == "delivered"]
    by_cohort = {k: g for k, g in delivered.groupby("cohort_id", sort=False)}
    for c in cohorts.itertuples():
        roles = ["prisoner"] * int(rng.integers(10, 15)) + ["staff"] * int(rng.integers(4, 8))
        ids = [f"P{next_id + i:06d}" for i in range(len(roles))]
        next_id += len(roles)
        people += [(pid, c.cohort_id, role) for pid, role in zip(ids, roles)]
        keen = np.where(rng.random(len(roles)) < 0.8, 1.0, 0.65)
        for w in by_cohort.get(c.cohort_id, pd.DataFrame()).itertuples():
            p = np.array([ATTENDANCE[r][w.session_number - 1] for r in roles]) * keen
            attended = rng.random(len(roles)) < p
            attendance += [(w.workshop_id, pid, bool(a)) for pid, a in zip(ids, attended)]
    participants = pd.DataFrame(people, columns=["participant_id", "cohort_id", "role"])
    return participants, pd.DataFrame(attendance, columns=["workshop_id", "participant_id", "attended"])


def _surveys(rng, cohorts, workshops, participants, attendance, end: date):
    delivered = workshops[workshops["status"] == "delivered"]
    first = workshops.groupby("cohort_id")["scheduled_on"].min()
    last_delivered = delivered.groupby("cohort_id")["delivered_on"].max()
    final_session = delivered.groupby("cohort_id")["session_number"].max()
    last_workshop_ids = delivered.sort_values("session_number").groupby("cohort_id")["workshop_id"].last()
    at_last = set(attendance.loc[attendance["attended"] & attendance["workshop_id"].isin(last_workshop_ids), "participant_id"])
    items = np.array(SURVEY_ITEMS)
    offsets = np.array([ITEM_CHANGE_OFFSET[i] for i in SURVEY_ITEMS])
    rows = []
    for p in participants.itertuples():
        if p.cohort_id not in first.index:
            continue
        baseline = rng.normal(3.0, 0.55) + rng.normal(0, 0.35, len(items))
        if p.role == "staff":
            baseline[list(SURVEY_ITEMS).index("feeling_safe")] += 0.4
        change = (ROLE_CHANGE[p.role] + offsets) * max(0.0, rng.normal(1.0, 0.5))

        def answer(wave, when, latent):
            scores = np.clip(np.rint(latent + rng.normal(0, 0.55, len(items))), 1, 5).astype(int)
            rows.extend((p.participant_id, wave, item, int(s), when) for item, s in zip(items, scores))  # noqa: B023 (called within this iteration)

        if rng.random() < 0.9:
            answer("pre", first[p.cohort_id] - timedelta(days=int(rng.integers(0, 4))), baseline)
        if p.cohort_id not in last_delivered.index or final_session[p.cohort_id] < 3:
            continue
        post_on = last_delivered[p.cohort_id] + timedelta(days=7)
        if post_on > end or rng.random() > (0.75 if p.participant_id in at_last else 0.3):
            continue
        answer("post", post_on, baseline + change)
        follow_on = post_on + timedelta(days=90)
        if follow_on <= end and rng.random() < 0.45:
            answer("follow_up", follow_on, baseline + change / 2)
    return pd.DataFrame(rows, columns=["participant_id", "wave", "item", "score", "responded_on"])


def _effect_months(cohort_windows: pd.DataFrame, wings: pd.DataFrame, months: pd.DatetimeIndex) -> np.ndarray:
    """Boolean wing × month: the programme effect is on (months after a cohort's last workshop)."""
    on = np.zeros((len(wings), len(months)), dtype=bool)
    wing_index = {w: i for i, w in enumerate(wings["wing_id"])}
    month_starts = months.to_numpy()
    for row in cohort_windows.itertuples():
        first_month = pd.Timestamp(row.last_workshop).to_period("M").to_timestamp() + pd.DateOffset(months=1)
        until = first_month + pd.DateOffset(months=EFFECT_MONTHS)
        on[wing_index[row.wing_id]] |= (month_starts >= first_month.to_datetime64()) & (month_starts < until.to_datetime64())
    return on


def _expected_incidents(rng, prisons, wings, population, months, effect_on, volume) -> dict[str, np.ndarray]:
    """Per incident type, the expected count (the Poisson mean) for each wing × month."""
    n_w, n_m = len(wings), len(months)
    pop = population["average_population"].to_numpy().reshape(n_w, n_m)
    prison_of_wing = wings["prison_id"].to_numpy()
    kind = prisons.set_index("prison_id").loc[prison_of_wing, "prison_type"].to_numpy()
    prison_factor = dict(zip(prisons["prison_id"], rng.lognormal(0, 0.2, len(prisons))))
    prison_factor.update({k: v * prison_factor[k] for k, v in HOTTER.items() if k in prison_factor})
    wing_factor = rng.lognormal(0, 0.2, n_w) * np.array([prison_factor[p] for p in prison_of_wing])
    t = np.arange(n_m)
    trend = 1 + 0.3 * np.minimum(t, 42) / 42 - 0.1 * np.clip((t - 60) / 48, 0, 1)
    season = 1 + 0.08 * np.sin(2 * np.pi * (months.month.to_numpy() - 5) / 12)
    gpp = np.isin(prison_of_wing, GPP_PRISONS)[:, None] & (
        (months >= pd.Timestamp(GPP_PERIOD[0])) & (months <= pd.Timestamp(GPP_EFFECT_UNTIL))
    )[None, :]
    expected = {}
    for incident_type in INCIDENT_TYPES:
        base = np.array([BASE_RATES.get(k, BASE_RATES["Category C training"])[incident_type] for k in kind])
        if incident_type == "prisoner_on_prisoner_assault":
            base = base * np.where(prison_of_wing == "EXI", EXI_PRISONER_ASSAULTS, 1.0)
        lam = base[:, None] * wing_factor[:, None] / 1000 / 12 * pop * trend * season * volume
        lam = lam * np.where(effect_on, PROGRAMME_EFFECT[incident_type], 1.0)
        if incident_type == "self_harm":
            lam = lam * np.where(gpp, GPP_SELF_HARM, 1.0)
        expected[incident_type] = lam
    return expected


def _incidents(rng, wings, months, expected: dict[str, np.ndarray]) -> pd.DataFrame:
    n_w, n_m = len(wings), len(months)
    prison_of_wing = wings["prison_id"].to_numpy()
    frames = []
    for type_index, incident_type in enumerate(INCIDENT_TYPES):
        counts = rng.poisson(expected[incident_type]).ravel()
        cell = np.repeat(np.arange(n_w * n_m), counts)
        frames.append((cell, np.full(len(cell), type_index, dtype=np.int8)))
    cell = np.concatenate([f[0] for f in frames])
    type_index = np.concatenate([f[1] for f in frames])
    wing_i, month_i = np.divmod(cell, n_m)
    month_start = months.to_numpy()[month_i].astype("datetime64[D]")
    days = months.days_in_month.to_numpy()[month_i]
    occurred = month_start + (rng.random(len(cell)) * days).astype("timedelta64[D]")
    order = np.lexsort((type_index, occurred))
    wing_i, type_index, occurred = wing_i[order], type_index[order], occurred[order]
    types = np.array(INCIDENT_TYPES)[type_index]
    serious = rng.random(len(types)) < np.vectorize(SERIOUS_SHARE.get)(types) if len(types) else np.array([], bool)
    wing_ids = wings["wing_id"].to_numpy()[wing_i].astype(object)
    wing_ids[rng.random(len(wing_ids)) < 0.04] = None  # recorded off the wings (reception, healthcare, yard)
    return pd.DataFrame({
        "incident_id": "I" + pd.Series(np.arange(1, len(types) + 1)).astype(str).str.zfill(9),
        "prison_id": prison_of_wing[wing_i],
        "wing_id": wing_ids,
        "occurred_on": occurred,
        "incident_type": types,
        "serious": serious,
    })


def _programme_sites(cohorts: pd.DataFrame) -> pd.DataFrame:
    """Where and when each programme ran: The Conversation from each prison's first cohort (still
    running), the Good Prison Project over the coordinator period."""
    conversation = cohorts.groupby("prison_id", as_index=False)["start_date"].min().rename(columns={"start_date": "started_on"})
    rows = [("the_conversation", r.prison_id, r.started_on, None, None) for r in conversation.itertuples()]
    rows += [("good_prison_project", prison, GPP_PERIOD[0], GPP_PERIOD[1], "coordinator funded by Clinks, then by the prison")
             for prison in GPP_PRISONS]
    return pd.DataFrame(rows, columns=["programme", "prison_id", "started_on", "ended_on", "note"])


def _published_only(seed: int, months: pd.DatetimeIndex, volume: float) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Prisons, their published incident counts and their monthly populations (own random stream, so
    the row-level tables do not change). Counts are per quarter (calendar quarters) or per year to
    March, whole periods only."""
    rng = np.random.default_rng(seed + 7919)
    prisons = pd.DataFrame([row[:5] for row in PUBLISHED_ONLY_PRISONS],
                           columns=["prison_id", "name", "prison_type", "region", "operational_capacity"])
    populations, counts = [], []
    t = np.arange(len(months))
    trend = 1 + 0.3 * np.minimum(t, 42) / 42 - 0.1 * np.clip((t - 60) / 48, 0, 1)
    for (prison_id, _, kind, _, capacity, period_months, until), factor in zip(
            PUBLISHED_ONLY_PRISONS, rng.lognormal(0, 0.2, len(PUBLISHED_ONLY_PRISONS))):
        kept = months <= pd.Timestamp(until) if until else np.ones(len(months), dtype=bool)
        population = np.round(capacity * np.clip(0.95 + np.cumsum(rng.normal(0, 0.006, len(months))), 0.75, 1.05), 0)
        source_population = "Synthetic, laid out as the monthly prison population bulletin"
        populations += [(prison_id, m.date(), float(p), capacity, source_population)
                        for m, p, keep in zip(months, population, kept) if keep]
        starts = [m for m in months if m.month in ((1, 4, 7, 10) if period_months == 3 else (4,))]  # years to March start in April
        for start in starts:
            inside = (months >= start) & (months < start + pd.DateOffset(months=period_months)) & kept
            if inside.sum() < period_months:
                continue  # only whole published periods
            for incident_type in INCIDENT_TYPES:
                rate = BASE_RATES[kind][incident_type] * factor * volume
                lam = float((rate / 1000 / 12 * population[inside] * trend[inside]).sum())
                n = int(rng.poisson(lam))
                serious = int(rng.binomial(n, SERIOUS_SHARE[incident_type]))
                label = (f"quarter from {start:%B %Y}" if period_months == 3
                         else f"12 months to March {start.year + 1}")
                counts.append((prison_id, start.date(), period_months, incident_type, n, serious,
                               f"Synthetic, laid out as Safety in Custody establishment tables, {label}"))
    return (prisons,
            pd.DataFrame(counts, columns=["prison_id", "period_start", "period_months", "incident_type", "incidents",
                                          "serious_incidents", "source"]),
            pd.DataFrame(populations, columns=["prison_id", "month", "population", "operational_capacity", "source"]))


# One row-level prison also has published figures, as a governor's own prison does, so the Data page
# can reconcile the two: they are its own recorded incidents and wing populations, laid out as the
# Safety in Custody tables (years to March) and the population bulletin (whole prisoners), with one
# figure altered by a known amount so that there is a difference to find.
RECONCILED_PRISON = "WSI"
RECONCILED_DIFFERENCE = {"period_start": date(2019, 4, 1), "incident_type": "self_harm", "published_minus_recorded": 7}


def _reconciled_prison(incidents: pd.DataFrame, wings: pd.DataFrame, population: pd.DataFrame,
                       months: pd.DatetimeIndex) -> tuple[pd.DataFrame, pd.DataFrame]:
    prison = RECONCILED_PRISON
    own = incidents[incidents["prison_id"] == prison]
    occurred = pd.to_datetime(own["occurred_on"]).dt.to_period("M").dt.to_timestamp()
    monthly = (population.merge(wings[["wing_id", "prison_id"]], on="wing_id").query("prison_id == @prison")
               .groupby("month")["average_population"].sum())
    populations = pd.DataFrame({"prison_id": prison, "month": list(monthly.index), "population": np.round(monthly.to_numpy()),
                                "operational_capacity": None,
                                "source": "Synthetic: the prison's wing populations, laid out as the monthly population bulletin"})
    counts = []
    for start in [m for m in months if m.month == 4 and m + pd.DateOffset(months=12) <= months[-1] + pd.DateOffset(months=1)]:
        inside = (occurred >= start) & (occurred < start + pd.DateOffset(months=12))
        for incident_type in INCIDENT_TYPES:
            chosen = own[inside & (own["incident_type"] == incident_type)]
            n, serious = len(chosen), int(chosen["serious"].sum())
            if start.date() == RECONCILED_DIFFERENCE["period_start"] and incident_type == RECONCILED_DIFFERENCE["incident_type"]:
                n += RECONCILED_DIFFERENCE["published_minus_recorded"]
            counts.append((prison, start.date(), 12, incident_type, n, serious,
                           f"Synthetic: the prison's recorded incidents laid out as Safety in Custody, 12 months to March {start.year + 1}"))
    return (pd.DataFrame(counts, columns=["prison_id", "period_start", "period_months", "incident_type", "incidents",
                                          "serious_incidents", "source"]), populations)


def _expected_frame(wings, months, population, expected: dict[str, np.ndarray]) -> pd.DataFrame:
    """Expected incidents as the `wing_monthly_counts` query lays out counts: wing × month × type.
    A share of incidents is recorded off the wings; it is the same on every wing and month, so it
    cancels in every ratio and is left out here."""
    n_w, n_m = len(wings), len(months)
    frames = [
        pd.DataFrame({
            "wing_id": np.repeat(wings["wing_id"].to_numpy(), n_m),
            "wing_name": np.repeat(wings["wing_name"].to_numpy(), n_m),
            "month": np.tile(months.date, n_w),
            "incident_type": incident_type,
            "incidents": lam.ravel(),
            "serious_incidents": lam.ravel() * SERIOUS_SHARE[incident_type],
            "average_population": population["average_population"].to_numpy(),
        })
        for incident_type, lam in expected.items()
    ]
    return pd.concat(frames, ignore_index=True).assign(prison_id=lambda f: f["wing_id"].str.split("-").str[0])


def expected_wing_incidents(seed: int = DEFAULT_SEED, **settings) -> pd.DataFrame:
    """The generator's expected (noise-free) incident counts per wing × month × type for the same
    settings as `generate`: what an estimator should recover exactly when fed them."""
    return generate(None, seed=seed, expected_only=True, **settings)


def _testimonials(cohorts: pd.DataFrame) -> pd.DataFrame:
    def first_cohort(prison):
        return cohorts.loc[cohorts["prison_id"] == prison, "cohort_id"].iloc[0]

    rows = [
        ("T001", "WSI", first_cohort("WSI"), "prisoner", "Marcus, participant",
         "For the first time I saw the officers as people who go home and worry about their kids too.", True),
        ("T002", "PVI", first_cohort("PVI"), "staff", "John, Prison Officer",
         "We talk to each other differently on the wing now. Things calm down before they kick off.", True),
        ("T003", "PVI", cohorts.loc[cohorts["prison_id"] == "PVI", "cohort_id"].iloc[1], "prisoner", "Dean, participant",
         "Listening without judging each other was harder than I thought, and it changed how I see the wing.", True),
        ("T004", "WSI", first_cohort("WSI"), "staff", "Sam, Supervising Officer",
         "Not for publication: I nearly did not come to the second session.", False),
        ("T005", "PVI", None, "prisoner", "Lee, participant", "Not for publication.", False),
    ]
    return pd.DataFrame(rows, columns=["testimonial_id", "prison_id", "cohort_id", "role", "display_name", "quote", "consent_to_publish"])


def _campaigns_donations(rng) -> tuple[pd.DataFrame, pd.DataFrame]:
    utc = UTC
    campaigns = pd.DataFrame([
        ("CAMP-2019-XMAS", "the_conversation", "The Conversation — Christmas Challenge 2019", "Big Give Christmas Challenge",
         datetime(2019, 12, 3, 12, tzinfo=utc), datetime(2019, 12, 10, 12, tzinfo=utc), 30000.0, 15000.0, "CHK Charities Limited"),
        ("CAMP-2016-GPP", "good_prison_project", "Good Prison Project appeal 2016", "Online appeal",
         datetime(2016, 6, 1, 9, tzinfo=utc), datetime(2016, 7, 1, 9, tzinfo=utc), 5000.0, 0.0, None),
    ], columns=["campaign_id", "programme", "name", "platform", "opens_at", "closes_at", "target_gbp", "match_pledged_gbp", "champion"])
    rows = []
    for c, n in zip(campaigns.itertuples(), (320, 60)):
        hours = (c.closes_at - c.opens_at).total_seconds() / 3600
        # Giving crowds the opening and closing hours, as match campaigns do.
        part = rng.choice(3, size=n, p=[0.35, 0.4, 0.25])
        offset = np.where(part == 0, rng.uniform(0, 6, n), np.where(part == 1, rng.uniform(0, hours, n), rng.uniform(hours - 12, hours, n)))
        amounts = np.round(np.exp(rng.normal(np.log(35), 0.9, n)))
        amounts[rng.choice(n, size=4, replace=False)] = rng.choice([500.0, 1000.0, 2000.0], 4)
        amounts = np.maximum(amounts, 5.0)
        order = np.argsort(offset)
        offset, amounts = offset[order], amounts[order]
        remaining = c.match_pledged_gbp
        for i, (h, amount) in enumerate(zip(offset, amounts)):
            matched = min(amount, remaining)
            remaining -= matched
            rows.append((f"D-{c.campaign_id[5:]}-{i + 1:04d}", c.campaign_id,
                         c.opens_at + timedelta(seconds=int(h * 3600)), float(amount), float(matched)))
    donations = pd.DataFrame(rows, columns=["donation_id", "campaign_id", "donated_at", "amount_gbp", "matched_gbp"])
    return campaigns, donations


def _good_prison_project(rng) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    services, referrals, events = [], [], []
    mapping_days = (GPP_PERIOD[1] - GPP_PERIOD[0]).days
    for prison in GPP_PRISONS:
        n = int(rng.integers(25, 41))
        categories = rng.choice(SERVICE_CATEGORIES, size=n)
        for i, category in enumerate(categories):
            gap_share = 0.35 if category in ("housing", "finance_benefit_debt") else 0.15
            services.append({
                "service_id": f"S-{prison}-{i + 1:03d}",
                "prison_id": prison,
                "provider": str(rng.choice(PROVIDERS)),
                "category": str(category),
                "status": "gap" if rng.random() < gap_share else "available",
                "mapped_on": GPP_PERIOD[0] + timedelta(days=int(rng.integers(0, mapping_days))),
                "through_the_gate": bool(rng.random() < 0.3),
                "protected_characteristic": str(rng.choice(PROTECTED)) if rng.random() < 0.2 else None,
            })
        for j, held in enumerate(sorted(date(2017 + k, int(rng.integers(3, 11)), int(rng.integers(1, 28))) for k in range(3))):
            if prison == "GMI":
                break
            providers = int(rng.integers(10, 31))
            prisoners = int(rng.integers(40, 151))
            events.append((f"E-{prison}-{j + 1:02d}", prison, held, "Outside In marketplace", providers, prisoners,
                           int(rng.integers(5, 21)), int(prisoners * rng.uniform(0.6, 1.6))))
    services = pd.DataFrame(services)
    available = services[services["status"] == "available"]
    last_day = date(2019, 12, 31)
    k = 0
    for month in pd.date_range("2016-10-01", "2019-12-01", freq="MS"):
        during = month.date() <= GPP_PERIOD[1]
        for _prison, group in available.groupby("prison_id"):
            ramp = (month.year - 2016) * 12 + month.month - 9
            lam = 2 + 0.8 * ramp if during else 4
            for _ in range(rng.poisson(lam)):
                service = group.iloc[int(rng.integers(0, len(group)))]
                referred = max(month.date() + timedelta(days=int(rng.integers(0, 28))), service["mapped_on"])
                if referred > last_day:
                    continue
                recent = (last_day - referred).days < 60
                outcome = "pending" if recent and rng.random() < 0.6 else str(
                    rng.choice(["engaged", "declined", "not_eligible"], p=[0.62, 0.22, 0.16]))
                k += 1
                referrals.append((f"R{k:06d}", service["service_id"], referred, outcome))
    referrals = pd.DataFrame(referrals, columns=["referral_id", "service_id", "referred_on", "outcome"])
    events = pd.DataFrame(events, columns=["event_id", "prison_id", "held_on", "name", "providers_attending",
                                           "prisoners_attending", "staff_attending", "connections_made"])
    return services, referrals, events


# One synthetic Justice Data Lab analysis of The Conversation, built so that each kind of result occurs:
# treatment value, comparison value, 95% interval of the difference, p-value, and the verdict the
# dashboard must generate from the interval (lower reoffending is better; more days to a reoffence is).
REOFFENDING_ANALYSIS = {"analysis_id": "JDL-TC-SAMPLE", "programme": "the_conversation",
                        "title": "The Conversation participants released 2019 to 2021 (synthetic)",
                        "published_on": date(2023, 9, 28), "treatment_n": 212, "comparison_n": 18930}
REOFFENDING_RESULTS = {
    "proven_reoffending_rate": (38.2, 45.1, -11.0, -2.8, 0.001, "significant reduction"),
    "reoffending_frequency": (1.21, 1.33, -0.35, 0.11, 0.30, "no significant difference"),
    "days_to_first_reoffence": (172.0, 151.0, 4.0, 38.0, 0.02, "significant increase"),
    "custodial_sentence_rate": (22.1, 24.5, -7.0, 2.2, 0.29, "no significant difference"),
}


def _reoffending() -> pd.DataFrame:
    return pd.DataFrame([
        {**REOFFENDING_ANALYSIS, "measure": measure, "treatment_value": t, "comparison_value": c,
         "difference_low": low, "difference_high": high, "p_value": p, "source_url": None}
        for measure, (t, c, low, high, p, _) in REOFFENDING_RESULTS.items()
    ])


def _targets(cohorts: pd.DataFrame, workshops: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Delivery targets with a known outcome, set from what the sample delivered: one met and one not met
    over the Christmas campaign's year, and one for the programme whose period runs past the data, on track
    (one cohort short of its target about half way through). Returns the targets and their statuses."""
    start = pd.to_datetime(cohorts["start_date"])
    def cohorts_in(first: date, last: date) -> pd.Series:
        return cohorts["cohort_id"][(start >= pd.Timestamp(first)) & (start <= pd.Timestamp(last))]
    year = (date(2019, 12, 10), date(2020, 12, 9))
    in_year = cohorts_in(*year)
    delivered = int(((workshops["status"] == "delivered") & workshops["cohort_id"].isin(in_year)).sum())
    current = (date(2024, 7, 1), date(2025, 6, 30))
    rows = [
        ("T-XMAS-COHORTS", "CAMP-2019-XMAS", "cohorts_started", *year, max(1, len(in_year) - 1), "met"),
        ("T-XMAS-WORKSHOPS", "CAMP-2019-XMAS", "workshops_delivered", *year, 2 * delivered + 1, "not met"),
        ("T-2024-COHORTS", None, "cohorts_started", *current, len(cohorts_in(*current)) + 1, "on track"),
    ]
    targets = pd.DataFrame([{"target_id": t, "programme": "the_conversation", "funder": "CHK Charities Limited", "campaign_id": c,
                             "indicator": i, "period_start": s, "period_end": e, "target_value": float(v)}
                            for t, c, i, s, e, v, _ in rows])
    return targets, {t: status for t, *_, status in rows}


def _arrow_table(table: str, frame: pd.DataFrame) -> pa.Table:
    types = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_(), date: pa.date32(),
             datetime: pa.timestamp("us", tz="UTC")}
    specs = column_specs(MODELS_BY_TABLE[table])
    schema = pa.schema([pa.field(s.name, types[s.python_type], nullable=s.nullable) for s in specs])
    arrays = []
    for s in specs:
        values = frame[s.name]
        if s.python_type is date:
            values = pd.to_datetime(values).dt.date
        arrays.append(pa.array(values.tolist() if s.python_type in (date, str) else values, type=types[s.python_type], from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=schema)


def _realised_change(participants: pd.DataFrame, surveys: pd.DataFrame) -> tuple[dict, float, int]:
    paired = surveys[surveys["wave"].isin(["pre", "post"])].pivot_table(
        index=["participant_id", "item"], columns="wave", values="score").dropna()
    diff = (paired["post"] - paired["pre"]).rename("change").reset_index().merge(participants, on="participant_id")
    by_role = {role: {item: round(float(v), 4) for item, v in g.groupby("item")["change"].mean().items()}
               for role, g in diff.groupby("role")}
    return by_role, round(float(diff["change"].mean()), 4), int(len(diff))


def generate(out_dir: str | Path | None, seed: int = DEFAULT_SEED, n_comparison_prisons: int = 15, volume: float = 1.0,
             start: date = date(2016, 1, 1), end: date = date(2024, 12, 31), conversation_prisons: int = 2,
             expected_only: bool = False) -> dict | pd.DataFrame:
    """Write one Parquet file per contract table, manifest.json and generator_truth.json; return the truth.

    With `expected_only`, write nothing and return the expected incident counts instead (see
    `expected_wing_incidents`)."""
    out = Path(out_dir) if out_dir is not None else None
    rng = np.random.default_rng(seed)
    months = _months(start, end)
    prisons = _prisons(n_comparison_prisons)
    wings = _wings(rng, prisons)
    population = _wing_population(rng, wings, months)
    cohorts, programme_wings = _cohort_plan(rng, prisons, wings, volume, start, end, conversation_prisons)
    workshops, cancelled = _workshops(rng, cohorts, end)
    participants, attendance = _participants_attendance(rng, cohorts, workshops)
    surveys = _surveys(rng, cohorts, workshops, participants, attendance, end)
    delivered = workshops[workshops["status"] == "delivered"]
    windows = (delivered.groupby("cohort_id")["delivered_on"].agg(first_workshop="min", last_workshop="max")
               .reset_index().merge(cohorts[["cohort_id", "prison_id", "wing_id"]], on="cohort_id"))
    effect_on = _effect_months(windows, wings, months)
    expected = _expected_incidents(rng, prisons, wings, population, months, effect_on, volume)
    if expected_only:
        return _expected_frame(wings, months, population, expected)
    incidents = _incidents(rng, wings, months, expected)
    out.mkdir(parents=True, exist_ok=True)
    testimonials = _testimonials(cohorts)
    campaigns, donations = _campaigns_donations(rng)
    services, referrals, events = _good_prison_project(rng)

    tables = {
        "prisons": prisons, "wings": wings, "wing_population": population, "incidents": incidents,
        "cohorts": cohorts, "workshops": workshops, "participants": participants, "attendance": attendance,
        "survey_responses": surveys, "testimonials": testimonials, "campaigns": campaigns, "donations": donations,
        "services": services, "referrals": referrals, "events": events,
        "programme_sites": _programme_sites(cohorts), "reoffending": _reoffending(),
    }
    tables["targets"], target_statuses = _targets(cohorts, workshops)
    published_prisons, published_counts, published_population = _published_only(seed, months, volume)
    if RECONCILED_PRISON in set(prisons["prison_id"]):
        reconciled_counts, reconciled_population = _reconciled_prison(incidents, wings, population, months)
        published_counts = pd.concat([published_counts, reconciled_counts], ignore_index=True)
        published_population = pd.concat([published_population, reconciled_population], ignore_index=True)
    tables["prison_incident_counts"], tables["prison_population"] = published_counts, published_population
    tables["prisons"] = pd.concat([prisons, published_prisons], ignore_index=True)
    for name, frame in tables.items():
        pq.write_table(_arrow_table(name, frame), out / f"{name}.parquet", compression="zstd")

    programme_prisons = sorted(cohorts["prison_id"].unique())
    realised, overall, pairs = _realised_change(participants, surveys)
    truth = {
        "seed": seed,
        "programme_effect": {
            "incident_types": PROGRAMME_EFFECT,
            "months_after_last_workshop": EFFECT_MONTHS,
            "programme_wings": sorted(programme_wings),
            "non_programme_wings_in_programme_prisons": sorted(
                set(wings.loc[wings["prison_id"].isin(programme_prisons), "wing_id"]) - set(programme_wings)),
        },
        "gpp_effect": {"prisons": list(GPP_PRISONS), "self_harm_multiplier": GPP_SELF_HARM,
                       "coordinator_period": [d.isoformat() for d in GPP_PERIOD], "effect_until": GPP_EFFECT_UNTIL.isoformat()},
        "cohorts": [
            {"cohort_id": c.cohort_id, "prison_id": c.prison_id, "wing_id": c.wing_id,
             "first_workshop": w.get("first_workshop"), "last_workshop": w.get("last_workshop"), "cancelled": c.cohort_id in cancelled}
            for c in cohorts.itertuples()
            for w in [{k: v.isoformat() for k, v in windows.set_index("cohort_id").loc[c.cohort_id, ["first_workshop", "last_workshop"]].items()}
                      if c.cohort_id in set(windows["cohort_id"]) else {}]
        ],
        "survey_effect": {
            "latent": {role: {item: round(base + ITEM_CHANGE_OFFSET[item], 3) for item in SURVEY_ITEMS} for role, base in ROLE_CHANGE.items()},
            "realised_mean_change": realised, "realised_overall": overall, "realised_pairs": pairs,
        },
        "reconciliation": ({"prison_id": RECONCILED_PRISON, "differences": [
            {**RECONCILED_DIFFERENCE, "period_start": RECONCILED_DIFFERENCE["period_start"].isoformat(), "period_months": 12}]}
            if RECONCILED_PRISON in set(prisons["prison_id"]) else None),
        "reoffending": {"analysis_id": REOFFENDING_ANALYSIS["analysis_id"],
                        "verdicts": {measure: r[-1] for measure, r in REOFFENDING_RESULTS.items()}},
        "targets": target_statuses,
        "row_counts": {name: int(len(frame)) for name, frame in tables.items()},
    }
    manifest = {"synthetic": True, "generator": "dashboard.sample_data", "seed": seed,
                "n_comparison_prisons": n_comparison_prisons, "volume": volume, "period": [start.isoformat(), end.isoformat()],
                **({"conversation_prisons": conversation_prisons} if conversation_prisons != 2 else {})}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (out / "generator_truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    return truth


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--comparison-prisons", type=int, default=15)
    parser.add_argument("--volume", type=float, default=1.0)
    parser.add_argument("--conversation-prisons", type=int, default=2,
                        help="comparison prisons that take up The Conversation (a national roll-out for benchmarks)")
    args = parser.parse_args(argv)
    truth = generate(args.out, seed=args.seed, n_comparison_prisons=args.comparison_prisons, volume=args.volume,
                     conversation_prisons=args.conversation_prisons)
    print(" ".join(f"{k}={v:,}" for k, v in truth["row_counts"].items()))


if __name__ == "__main__":
    main()
