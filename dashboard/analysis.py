"""Computations behind the governors' pages, over frames returned by the named queries.

Plain functions (no Streamlit): they turn counts and populations into rates, SPC signals and
before/after comparisons, using `dashboard.stats` and the metric registry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard import disclosure, stats
from dashboard.contract import REOFFENDING_MEASURES
from dashboard.metrics import INCIDENT_TYPE_LABELS, ROLE_LABELS, Measure, code_label, fmt, incident_rate, share
from dashboard.text import count_of, first_upper, long_day_label, md


def wing_measure(wing_counts: pd.DataFrame, measure: Measure) -> pd.DataFrame:
    """One row per wing × month for a measure: incidents, prisoner-years and rate per 1,000 per year.

    `wing_counts` is the `wing_monthly_counts` query (wing × month × incident type).
    """
    column = "serious_incidents" if measure.serious_only else "incidents"
    chosen = wing_counts[wing_counts["incident_type"].isin(measure.incident_types)]
    frame = (
        chosen.groupby(["wing_id", "wing_name", "month"], as_index=False)
        .agg(incidents=(column, "sum"), average_population=("average_population", "first"))
    )
    frame["prisoner_years"] = frame["average_population"] / 12
    frame["rate"] = incident_rate(frame["incidents"], frame["prisoner_years"])
    return frame


def spc_for(series: pd.DataFrame, rebase_month=None) -> pd.DataFrame:
    """XmR chart of a monthly `rate` series (sorted by month), with limits rebased at a month."""
    series = series.sort_values("month").reset_index(drop=True)
    rebase = []
    if rebase_month is not None:
        after = series.index[pd.to_datetime(series["month"]) >= pd.Timestamp(rebase_month)]
        rebase = [int(after[0])] if len(after) else []
    chart = stats.xmr(series["rate"].fillna(0).tolist(), rebase_at=rebase)
    return series.assign(
        mean=chart.mean,
        upper=chart.upper,
        lower=[max(0.0, v) for v in chart.lower],  # a rate cannot fall below zero
        signal=chart.signals(lower_is_better=True),
        outside_limits=chart.outside_limits,
        run=chart.run,
        trend=chart.trend,
        two_of_three=chart.two_of_three,
    )


SPC_HOW_TO_READ = (
    "Each dot is one month's rate on the wing. The solid line is the wing's average; the dashed lines are its "
    "process limits, the range the rate usually wanders within from month to month. Grey dots are ordinary "
    "variation: nothing to react to on its own. A blue dot is a signal of improvement and an orange dot a signal of "
    "concern (here lower is better). A dot becomes a signal when something happens that ordinary variation rarely "
    "produces: a month outside the limits, seven months in a row above (or below) the average, seven months in a "
    "row each rising (or falling), or two of three months close to a limit on the same side.\n\n"
    "The purple shading marks a cohort's workshops. A signal after them is worth a closer look, not proof the "
    "workshops caused it: rebasing the limits at a first workshop asks whether the wing has settled at a new level."
)

SPC_RULES = ("a point outside the limits, 7 in a row on one side of the mean, 7 in a row rising or falling, or 2 of 3 "
             "beyond two-thirds of the way to a limit")


def signal_disagrees(direction: str, signal: str) -> bool:
    """Whether an SPC signal reads against a year-on-year comparison's direction ("lower", "higher" or
    "none"), lower being better: a signal with no change found, or a signal against the change."""
    return (signal == "improvement" and direction != "lower") or (signal == "concern" and direction != "higher")


def methods_differ_note(differences: list[str], signal_reads: str) -> str:
    """Why an SPC signal beside a 12-month comparison can seem to contradict it, naming where it does
    (`differences`, already in words); empty when nothing does. `signal_reads` says which months the
    signal is about, as the table beside it takes it."""
    if not differences:
        return ""
    return (f"**Why the SPC signal and the 12-month comparison can differ** ({'; '.join(differences)}). They ask different "
            "questions: the comparison, whether the last 12 months' rate differs from the 12 months before; the SPC "
            f"signal, whether {signal_reads} stands out against the whole period's own month-to-month variation. A recent "
            "run can show before a year's rate moves, and one month can stand out in a year whose rate fell.")


def cohort_windows(delivered: pd.DataFrame) -> pd.DataFrame:
    """First and last delivered workshop of each cohort (the `delivered_workshops` query)."""
    if delivered.empty:
        return pd.DataFrame(columns=["cohort_id", "wing_id", "first_workshop", "last_workshop", "sessions"])
    return (
        delivered.groupby(["cohort_id", "wing_id"], as_index=False)
        .agg(first_workshop=("delivered_on", "min"), last_workshop=("delivered_on", "max"), sessions=("session_number", "nunique"))
        .sort_values("first_workshop")
    )


@dataclass(frozen=True)
class Windows:
    before: tuple[pd.Timestamp, pd.Timestamp]  # [start, end) months
    after: tuple[pd.Timestamp, pd.Timestamp]


def windows_for(first_workshop, last_workshop, months_before: int, months_after: int) -> Windows:
    """The N whole months before the first workshop's month and after the last workshop's month."""
    first = np.datetime64(pd.Timestamp(first_workshop), "M")  # month arithmetic without DateOffset (slow per call)
    last = np.datetime64(pd.Timestamp(last_workshop), "M")
    return Windows(
        before=(pd.Timestamp(first - months_before), pd.Timestamp(first)),
        after=(pd.Timestamp(last + 1), pd.Timestamp(last + 1 + months_after)),
    )


def cohorts_in_view(cohorts: pd.DataFrame, period_start, period_end, wing_ids=None) -> pd.DataFrame:
    """The cohorts a view shows: those whose first workshop falls in [period_start, period_end)
    (a cohort counts where it started), on the chosen wings if any."""
    first = pd.to_datetime(cohorts["first_workshop"])
    shown = (first >= pd.Timestamp(period_start)) & (first < pd.Timestamp(period_end))
    if wing_ids:
        shown &= cohorts["wing_id"].isin(list(wing_ids))
    return cohorts[shown]


def workshops_in_period(delivered: pd.DataFrame, period_start, period_end) -> pd.DataFrame:
    """Delivered workshops in [period_start, period_end): the markers a chart of that period shows."""
    on = pd.to_datetime(delivered["delivered_on"])
    return delivered[(on >= pd.Timestamp(period_start)) & (on < pd.Timestamp(period_end))]


# A cohort may change its wing for a while after its last workshop. Until that time has passed the
# wing is neither a clean comparison for another cohort nor a clean "before" for its own next
# cohort. A year is the assumption (stated on the page); the sample's generator builds 12 months.
EFFECT_CAN_LAST_MONTHS = 12
LEFT_OUT_BEFORE_TREATED = "left out: its 'before' months fall inside an earlier cohort's effect on this wing"
NO_COMPARISON = "left out: no wing of the prison was free of the programme in both windows"
RUNS_OFF = "left out: a window runs beyond the data or the period"
LEFT_OUT_LATER_COHORT = "left out: another cohort began on this wing before its 'after' months ended"
NO_POPULATION = "left out: its wing has no population figure for some months of the windows"
TOO_FEW_TO_SHOW = "left out: a window has too few incidents to show"
WHY_LEFT_OUT = {  # the notes above, as the reason in "N cohorts left out because ..." (singular, plural)
    LEFT_OUT_BEFORE_TREATED: ("its 'before' months fall inside an earlier cohort's effect on the same wing",
                              "their 'before' months fall inside an earlier cohort's effect on the same wing"),
    LEFT_OUT_LATER_COHORT: ("another cohort began on its wing before its 'after' months ended",
                            "another cohort began on their wing before their 'after' months ended"),
    NO_COMPARISON: ("no other wing was free of the programme in both windows",) * 2,
    RUNS_OFF: ("a window runs beyond the data or the period",) * 2,
    NO_POPULATION: ("its wing has no population figure for some months of the windows",
                    "their wings have no population figure for some months of the windows"),
    TOO_FEW_TO_SHOW: ("a window has too few incidents to show",) * 2,
}


BEFORE_AFTER_COLUMNS = [  # every column, so a table whose cohorts were all left out still has them
    "cohort_id", "wing_id", "comparison_wings", "first_workshop", "last_workshop",
    *(f"{cell}_{part}" for cell in ("wing_before", "wing_after", "others_before", "others_after")
      for part in ("incidents", "prisoner_years", "rate")),
    "ratio", "ratio_low", "ratio_high", "log_ratio_se", "note",
]


def _month(value) -> np.datetime64:
    return np.datetime64(pd.Timestamp(value), "M")


def _grid(wing_rates: pd.DataFrame) -> tuple[np.ndarray, pd.DatetimeIndex, np.ndarray, np.ndarray]:
    """Wings, months and the wing × month arrays of incidents and prisoner-years (0 where a wing has
    no row for a month) of a `wing_measure` frame (one row per wing and month)."""
    frame = wing_rates.assign(month=pd.to_datetime(wing_rates["month"])).set_index(["wing_id", "month"])
    grid = frame[["incidents", "prisoner_years"]].unstack("month", fill_value=0).sort_index(axis=1)
    months = pd.DatetimeIndex(grid["incidents"].columns)
    return grid.index.to_numpy(), months, grid["incidents"].to_numpy(dtype=float), grid["prisoner_years"].to_numpy(dtype=float)


def influence_spans(cohorts: pd.DataFrame, effect_months: int = EFFECT_CAN_LAST_MONTHS) -> pd.DataFrame:
    """Each cohort's wing and the months [start, end) it may have influenced: from its first
    workshop's month to `effect_months` after its last workshop's month."""
    first = np.array([_month(v) for v in cohorts["first_workshop"]], dtype="datetime64[M]")
    last = np.array([_month(v) for v in cohorts["last_workshop"]], dtype="datetime64[M]")
    return pd.DataFrame({
        "cohort_id": cohorts["cohort_id"].to_numpy(), "wing_id": cohorts["wing_id"].to_numpy(),
        "start": first, "end": last + 1 + effect_months,
    })


def before_after(
    wing_rates: pd.DataFrame, cohorts: pd.DataFrame, months_before: int = 6, months_after: int = 6, wing_of=None,
    evaluate=None, effect_months: int = EFFECT_CAN_LAST_MONTHS, count_as=None,
) -> pd.DataFrame:
    """For each cohort: counts, prisoner-years and rates before and after on its wing and on the
    comparison wings, and the ratio of the two changes with its 95% CI.

    Staggered roll-out, done as clean two-by-two comparisons: a cohort's comparison wings are the
    prison's other wings that no cohort influenced (first workshop to `effect_months` after the
    last) at any time in the before or after window, so a comparison wing is neither being treated
    nor still carrying an earlier cohort's effect; a cohort whose own before window falls inside an
    earlier cohort's influence on the same wing is left out with a note (its "before" is not
    untreated). `wing_rates` is `wing_measure(...)` for one prison; `wing_of` can map a cohort to
    another wing (a placebo test: the same dates on a wing that had no programme). `evaluate`
    (cohort ids) limits the cohorts compared; every cohort in `cohorts` still screens, so a wing
    treated outside the view is never taken as untreated. `count_as(count)` gives the count each of the
    four cells is computed from (for a funder, the rounded count; None when it is hidden, and the cohort
    is then left out), so the ratio gives back no more than a shown count would.
    """
    wings, month_index, counts, exposure = _grid(wing_rates)
    months = month_index.to_numpy().astype("datetime64[M]")
    spans = influence_spans(cohorts, effect_months)
    span_ids, span_wings = spans["cohort_id"].to_numpy(), spans["wing_id"].to_numpy()
    span_starts = spans["start"].to_numpy().astype("datetime64[M]")
    span_ends = spans["end"].to_numpy().astype("datetime64[M]")
    row_of = {w: i for i, w in enumerate(wings)}
    span_rows = np.array([row_of.get(w, -1) for w in span_wings], dtype=int)  # each span's wing row, -1: no data

    def window(start, end, needed):
        lo, hi = months.searchsorted(start), months.searchsorted(end)
        return (lo, hi) if hi - lo == needed else None  # the window runs off the data

    rows = []
    chosen = cohorts if evaluate is None else cohorts[cohorts["cohort_id"].isin(list(evaluate))]
    # every chosen cohort's windows at once (see windows_for): before = [first - N, first), after = [last + 1, last + 1 + N)
    firsts = np.array([_month(v) for v in chosen["first_workshop"]], dtype="datetime64[M]")
    lasts = np.array([_month(v) for v in chosen["last_workshop"]], dtype="datetime64[M]")
    for cohort, first_month, last_month in zip(chosen.itertuples(), firsts, lasts):
        wing = wing_of(cohort) if wing_of else cohort.wing_id
        before_window = (first_month - months_before, first_month)
        after_window = (last_month + 1, last_month + 1 + months_after)
        start, end = before_window[0], after_window[1]
        busy = np.zeros(len(wings), dtype=bool)  # wings some cohort influenced in either window
        busy[span_rows[(span_starts < end) & (span_ends > start) & (span_rows >= 0)]] = True
        others_on_wing = (span_wings == wing) & (span_ids != cohort.cohort_id)
        earlier_on_wing = others_on_wing & (span_starts < first_month) & (span_ends > start)
        later_on_wing = others_on_wing & (span_starts >= first_month) & (span_starts < end)
        on_wing = wings == wing
        windows_found = [window(*before_window, months_before), window(*after_window, months_after)]
        covered = np.zeros(len(wings), dtype=bool)  # a population in every month of both windows
        if None not in windows_found:
            covered = np.all(np.concatenate([exposure[:, lo:hi] for lo, hi in windows_found], axis=1) > 0, axis=1)
        others = ~on_wing & covered & ~busy
        row = {
            "cohort_id": cohort.cohort_id,
            "wing_id": wing,
            "comparison_wings": int(others.sum()),
            "first_workshop": cohort.first_workshop,
            "last_workshop": cohort.last_workshop,
        }
        if None in windows_found or not on_wing.any():
            rows.append({**row, "note": RUNS_OFF})
            continue
        if not covered[on_wing].all():
            rows.append({**row, "note": NO_POPULATION})
            continue
        if earlier_on_wing.any():
            rows.append({**row, "note": LEFT_OUT_BEFORE_TREATED})
            continue
        if later_on_wing.any():
            rows.append({**row, "note": LEFT_OUT_LATER_COHORT})
            continue
        if not others.any():
            rows.append({**row, "note": NO_COMPARISON})
            continue
        # wing before, wing after, comparison before, comparison after
        cells = [
            (float(counts[rows_mask, lo:hi].sum()), float(exposure[rows_mask, lo:hi].sum()))
            for rows_mask in (on_wing, others)
            for lo, hi in windows_found
        ]
        if count_as is not None:  # every figure of the row from the counts as shown
            cells = [(count_as(count), years) for count, years in cells]
            if any(count is None for count, _ in cells):
                rows.append({**row, "note": TOO_FEW_TO_SHOW})
                continue
        for name, (count, prisoner_years) in zip(("wing_before", "wing_after", "others_before", "others_after"), cells):
            row[f"{name}_incidents"] = count
            row[f"{name}_prisoner_years"] = prisoner_years
            row[f"{name}_rate"] = incident_rate(count, prisoner_years)
        result = stats.ratio_of_rate_changes(*cells)
        rows.append({**row, "ratio": result.ratio, "ratio_low": result.lower, "ratio_high": result.upper,
                     "log_ratio_se": result.log_se, "note": ""})
    return pd.DataFrame(rows, columns=BEFORE_AFTER_COLUMNS)


@dataclass(frozen=True)
class Pooled:
    """Cohorts' ratios of changes combined: a random-effects meta-analysis on the log scale."""

    ratio: float
    lower: float
    upper: float
    cohorts: int
    tau2: float  # between-cohort variance of the log ratio (0: the cohorts agree beyond chance)
    i2: float  # share of the spread beyond chance, 0..1
    log_se: float = math.nan  # standard error of log(ratio), with the between-cohort variance in it


def pooled(before_after_table: pd.DataFrame, level: float = 0.95) -> Pooled | None:
    """All compared cohorts together: each cohort's log ratio weighted by its inverse variance plus
    the between-cohort variance (random effects, Paule–Mandel estimate of tau², statsmodels'
    `combine_effects`), so cohorts that genuinely differ widen the interval instead of being
    averaged away. One cohort is its own estimate."""
    usable = before_after_table.dropna(subset=["ratio"]) if "ratio" in before_after_table else before_after_table.iloc[0:0]
    if usable.empty:
        return None
    if len(usable) == 1:
        only = usable.iloc[0]
        return Pooled(float(only["ratio"]), float(only["ratio_low"]), float(only["ratio_high"]), 1, 0.0, 0.0,
                      float(only["log_ratio_se"]))
    # imported here: statsmodels adds a quarter of a second to every start, and most pages never pool
    from statsmodels.stats.meta_analysis import combine_effects

    with np.errstate(divide="ignore", invalid="ignore"):  # cohorts that agree exactly: I² is 1 - 1/0, taken as 0 below
        combined = combine_effects(
            np.log(usable["ratio"].to_numpy(dtype=float)), usable["log_ratio_se"].to_numpy(dtype=float) ** 2,
            method_re="iterated", alpha=1 - level,
        )
    estimate = combined.summary_frame().loc["random effect"]
    return Pooled(
        float(np.exp(estimate["eff"])), float(np.exp(estimate["ci_low"])), float(np.exp(estimate["ci_upp"])),
        len(usable), float(max(combined.tau2, 0.0)), float(max(combined.i2, 0.0)), float(estimate["sd_eff"]),
    )



@dataclass(frozen=True)
class PrisonCohorts:
    """One prison's part in a programme view: its wings' rates for a measure, every cohort there
    (they all screen comparison wings) and the ids of the cohorts in view."""

    prison_id: str
    rates: pd.DataFrame
    cohorts: pd.DataFrame
    in_view: tuple


@dataclass(frozen=True)
class ProgrammeView:
    table: pd.DataFrame  # before_after rows of the cohorts in view, with prison_id and cohort_label
    pooled: Pooled | None
    event: pd.DataFrame  # event_study of the same cohorts

    @property
    def has_event_study(self) -> bool:
        """Some month around the first workshops has a ratio (a short period may leave none)."""
        return bool("ratio" in self.event and self.event["ratio"].notna().any())

    @property
    def compared(self) -> pd.DataFrame:
        """The cohorts with a ratio (not left out)."""
        return self.table.dropna(subset=["ratio"]) if "ratio" in self.table else self.table.iloc[0:0]


def programme_view(prisons: list[PrisonCohorts], window: int, month_by_month: bool = True, count_as=None) -> ProgrammeView:
    """Did it help? The cohorts in view compared before and after (clean comparisons, pooled) and,
    if asked, month by month around their first workshop, over one prison or several."""
    tables = []
    for prison in prisons:
        table = before_after(prison.rates, prison.cohorts, window, window, evaluate=prison.in_view, count_as=count_as)
        if table.empty:
            continue
        names = dict(zip(prison.rates["wing_id"], prison.rates["wing_name"]))
        started = pd.to_datetime(table["first_workshop"]).dt.strftime("%b %Y")
        wing = table["wing_id"].map(names).fillna(table["wing_id"])
        table.insert(0, "prison_id", prison.prison_id)
        table.insert(1, "cohort_label", table["cohort_id"] + " · " + wing + " · " + started)
        tables.append(table)
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=["prison_id", "cohort_label", "cohort_id", "note"])
    event = (event_study([(p.rates, p.cohorts) for p in prisons], evaluate=[c for p in prisons for c in p.in_view])
             if month_by_month else pd.DataFrame())
    return ProgrammeView(table, pooled(table), event)


def programme_how_to_read(measure_label: str, window: int) -> str:
    what = measure_label.lower()
    return (
        f"**The ratio of changes** compares, for each cohort, how {what} changed on its wing from the {window} months "
        f"before its first workshop to the {window} months after its last, with how it changed over the same months on "
        "the prison's wings without the programme. Below 1: it fell more (or rose less) on the cohort's wing. The lines "
        "are 95% intervals; the diamond combines the cohorts (a random-effects meta-analysis, which widens when cohorts "
        "differ more than chance).\n\n"
        f"**Clean comparisons.** A cohort is assumed to be able to change its wing for up to {EFFECT_CAN_LAST_MONTHS} "
        "months after its last workshop. So a comparison wing is one no cohort touched in that time, and a cohort whose "
        "'before' months were still inside an earlier cohort's time on the same wing is left out (its 'before' was not a "
        "wing without the programme).\n\n"
        "**Month by month.** Each point is the rate on the cohorts' wings divided by the rate on comparison wings that "
        f"month, relative to the same ratio in the {-EVENT_MONTHS[0]} months before. Before month 0 it should sit near 1; "
        "a fall there would mean the wings were already improving before the workshops.\n\n"
        "This does not prove cause: wings were not chosen at random, and a cohort may follow a bad spell."
    )


def ratio_direction(lower: float, upper: float) -> str | None:
    """Where a ratio's 95% interval lies as printed (two decimals): "lower" wholly below 1, "higher"
    wholly above, None when it includes no difference. Every claim of a fall or rise asks this."""
    lower, upper = round(lower, 2), round(upper, 2)
    return "lower" if upper < 1 else "higher" if lower > 1 else None


def change_direction(lower: float, upper: float) -> str | None:
    """The same for a change (a difference, no change at 0) printed to two decimals: "rose", "fell" or None."""
    lower, upper = round(lower, 2), round(upper, 2)
    return "fell" if upper < 0 else "rose" if lower > 0 else None


def wing_safety_claim(measure_label: str, estimate: Pooled, window: int, cohorts: str | None = None) -> str:
    """The programme's wings against its comparison wings in one plain sentence (the funder report's
    wording), generated from the pooled ratio and its interval: a fall or rise only when the interval
    as printed excludes 1, and never a claim of cause."""
    cohorts = cohorts or f"{estimate.cohorts}"  # as the viewer may see the count ("<5" for a funder)
    who = ("The one cohort compared" if cohorts == "1" else "Across fewer than " + cohorts[1:] + " cohorts compared"
           if cohorts.startswith("<") else f"Across the {cohorts} cohorts compared")
    interval = f"ratio of changes {estimate.ratio:.2f}, 95% CI {estimate.lower:.2f} to {estimate.upper:.2f}"
    what = f"the rate of {measure_label.lower()} on the programme's wings in the {window} months after the workshops"
    direction = ratio_direction(estimate.lower, estimate.upper)
    if direction is None:
        return (f"{who}, the change in {what} cannot be told apart from the change on comparison wings without the programme "
                f"({interval}: the interval includes no difference). That is not proof the programme had no effect.")
    return (f"{who}, {what} was about {abs(1 - estimate.ratio):.0%} {direction} than the change on comparison wings without "
            f"the programme would predict ({interval}). Wings were not chosen at random, so this is an association, "
            "not proof that the programme caused it.")


def survey_claim(mean_change: float, lower: float, upper: float, pairs: str, short: bool = False) -> str:
    """Participants' paired survey change in one plain sentence, generated from its interval."""
    interval = f"mean change {mean_change:+.2f} points, 95% CI {lower:+.2f} to {upper:+.2f}, {pairs} participants with both surveys"
    direction = change_direction(lower, upper)
    if direction is None:
        return (f"Participants' survey scores after the workshops cannot be told apart from before ({interval}: the interval "
                "includes no change).")
    if short:
        return f"Participants' survey scores {direction} from before to after the workshops ({interval}; no comparison group)."
    return (f"Participants' survey scores {direction} from before to after the workshops ({interval}). There is no comparison "
            "group of people who did not take part, so this is not evidence that the workshops caused it.")


def programme_answer(view: ProgrammeView, measure_label: str, window: int, window_can_change: bool = True) -> str:
    """The programme answer in one plain sentence, generated from the pooled ratio and its interval
    as printed (a fall or rise is claimed only when the printed interval excludes 1), and what was
    left out."""
    left_out = view.table[view.table["note"] != ""]["note"].value_counts() if not view.table.empty else pd.Series(dtype=int)
    reasons = "; ".join(f"{count_of(n, 'cohort')} because {WHY_LEFT_OUT[reason][n != 1]}" for reason, n in left_out.items())
    omitted = f" Left out: {reasons}." if reasons else ""
    estimate = view.pooled
    if estimate is None:
        advice = "Widen the period or choose a shorter window." if window_can_change else "Widen the period."
        return f"No cohort in view could be compared before and after {window}-month windows.{omitted} {advice}"
    one = estimate.cohorts == 1
    who = "The one cohort compared" if one else f"Across the {estimate.cohorts} cohorts compared"
    where = "on its wing" if one else "on the cohorts' wings"
    ratio, lower, upper = (round(v, 2) for v in (estimate.ratio, estimate.lower, estimate.upper))
    interval = f"ratio of changes {ratio:.2f}, 95% CI {lower:.2f} to {upper:.2f}"
    if ratio_direction(lower, upper):
        change = f"{abs(1 - estimate.ratio):.0%} {'lower' if ratio < 1 else 'higher'}"
        verdict = (f"**{who}, the rate of {measure_label.lower()} {where} in the {window} months after the workshops was about "
                   f"{change} than the comparison wings' change would predict ({interval}).**")
    else:
        verdict = (f"**{who}, the change in the rate of {measure_label.lower()} {where} after the workshops cannot be told apart from "
                   f"the comparison wings' change ({interval}: the interval includes no difference).**")
    spread = (" The cohorts differ by more than chance (I² " + f"{estimate.i2:.0%}" + "), so the interval allows for it."
              if estimate.i2 >= 0.25 else "")
    return verdict + spread + omitted

@dataclass(frozen=True)
class Detectable:
    """What the cohorts compared could detect, at 80% power and the 5% level."""

    ratio: float  # the smallest ratio of changes below 1 found 80% of the time
    cohort_months: int  # compared cohorts × months followed after the workshops
    needed_for_fifth: float  # cohort-months that would detect a ratio of 0.8 (a 20% reduction)

    @property
    def more_needed(self) -> int:
        return max(0, math.ceil(self.needed_for_fifth - self.cohort_months))


TARGET_REDUCTION = 0.8  # the ratio of changes a funder asks about: a 20% reduction against the comparison wings


def programme_detectable(view: ProgrammeView, window: int) -> Detectable | None:
    """From the pooled estimate's standard error (the wings' rates and prisoner-years, and the spread
    between cohorts): the smallest ratio of changes detectable with 80% power at the 5% level, and
    the cohort-months (cohorts compared × the months after their workshops) a 20% reduction needs,
    assuming the added cohorts are like those compared."""
    estimate = view.pooled
    if estimate is None or not estimate.log_se > 0:
        return None
    months = estimate.cohorts * window
    return Detectable(stats.smallest_detectable_ratio(estimate.log_se), months,
                      stats.units_needed(months, estimate.log_se, TARGET_REDUCTION))


DETECTABLE_LEAD = "What this comparison could detect: with these wings' rates, prisoner-years and the spread between cohorts, "


def detectable_sentence(found: Detectable | None, window: int, say_months: bool = True, lead: bool = True) -> str:
    """What the comparison could detect, in words (shown under the programme answer). Without
    `say_months` it gives neither the cohort-months compared nor how many more are needed (for a funder:
    with the detectable ratio, either gives back the count of cohorts, which is shown as counts are);
    without `lead` it starts at the ratio (one item of a list under `DETECTABLE_LEAD`)."""
    if found is None:
        return ""
    said = ((DETECTABLE_LEAD if lead else "")
            + f"a ratio of changes of {found.ratio:.2f} or lower (a fall of {1 - found.ratio:.0%} or more against the comparison "
            f"wings) would be found 80% of the time at the 5% level; smaller effects could be missed. ")
    have = (f"The {count_of(found.cohort_months, 'cohort-month')} compared ({window} months after each cohort's workshops)"
            if say_months else f"The cohorts compared ({window} months after each one's workshops)")
    if found.more_needed == 0:
        return said + f"{have} are enough to detect a 20% reduction."
    if not say_months:  # with the detectable ratio, how many more would give back how many there are
        return said + f"{have} are too few to detect a 20% reduction."
    cohorts = math.ceil(found.more_needed / window)
    return said + (f"{have} would need about {count_of(found.more_needed, 'more cohort-month')} ({count_of(cohorts, 'more cohort')} "
                   "like these) to detect a 20% reduction.")


EVENT_MONTHS = (-12, 18)  # months relative to a cohort's first workshop that the event study shows


_SUMS = ["cohort_incidents", "expected_incidents", "cohort_prisoner_years", "comparison_incidents",
         "comparison_prisoner_years", "reference_cohort_incidents", "reference_comparison_incidents"]


def event_study(
    prisons: list[tuple[pd.DataFrame, pd.DataFrame]], months_from: int = EVENT_MONTHS[0], months_to: int = EVENT_MONTHS[1],
    evaluate=None, effect_months: int = EFFECT_CAN_LAST_MONTHS, level: float = 0.95,
) -> pd.DataFrame:
    """Month by month around the first workshop (month 0 is its month): incidents on the cohorts'
    wings against what their comparison wings predict, with a 95% interval.

    A wing-month is used only when it is clean: a cohort's own wing in a month another cohort may
    have influenced is left out, and a comparison wing is one of the prison's other wings that no
    cohort influenced that month. Each cohort is its own reference: over its months before the
    first workshop (months_from to −1) its wing ran at some ratio to its comparison wings, and in
    each month its expected count is the comparison wings' rate that month × its wing's
    prisoner-years × that ratio. A month's ratio is the cohorts' incidents ÷ their expected
    incidents, so cohorts entering or leaving the sum at the period's edges do not move it. Before
    month 0 it should sit near 1: a fall there means the wings were already improving. The interval
    is approximate (log scale, variance 1/a + 1/b + 1/c + 1/d over the month's and the references'
    cohort and comparison counts). `prisons` holds one (wing_rates, cohorts) pair per prison (a
    cohort is compared within its own prison); the programme's view passes every prison."""
    relative = np.arange(months_from, months_to + 1)
    frame = pd.DataFrame({"months_from_first_workshop": relative, **{c: 0.0 for c in _SUMS}, "cohorts": 0})
    for wing_rates, cohorts in prisons:
        sums, used = _event_sums(wing_rates, cohorts, relative, evaluate, effect_months)
        frame[_SUMS] += sums
        frame["cohorts"] += used
    z = stats.normal_quantile(1 - (1 - level) / 2)
    observed, expected = frame["cohort_incidents"], frame["expected_incidents"]
    usable = (frame["cohorts"] > 0) & (expected > 0)
    corrected = frame[["cohort_incidents", "comparison_incidents", "reference_cohort_incidents", "reference_comparison_incidents"]]
    corrected = corrected.where(corrected > 0, 0.5)
    se = np.sqrt((1 / corrected).sum(axis=1))
    ratio = (observed.where(observed > 0, 0.5) / expected.where(usable)).where(usable)
    frame["ratio"] = ratio
    frame["ratio_low"] = ratio * np.exp(-z * se)
    frame["ratio_high"] = ratio * np.exp(z * se)
    return frame


def _event_sums(wing_rates, cohorts, relative, evaluate, effect_months) -> tuple[np.ndarray, np.ndarray]:
    """One prison's sums per relative month (the _SUMS columns, see event_study) and the number of
    cohorts contributing to each."""
    sums = np.zeros((len(relative), len(_SUMS)))
    used = np.zeros(len(relative), dtype=int)
    if cohorts.empty or wing_rates.empty:
        return sums, used
    wings, month_index, counts, exposure = _grid(wing_rates)
    months = month_index.to_numpy().astype("datetime64[M]")
    has_data = exposure > 0
    spans = influence_spans(cohorts, effect_months)
    span_wings = spans["wing_id"].to_numpy()
    span_starts = spans["start"].to_numpy().astype("datetime64[M]")
    span_ends = spans["end"].to_numpy().astype("datetime64[M]")
    row_of = {w: i for i, w in enumerate(wings)}
    within = (months[None, :] >= span_starts[:, None]) & (months[None, :] < span_ends[:, None])  # [span, month]
    influenced = np.zeros(counts.shape, dtype=bool)  # [wing, month]: some cohort may have influenced it
    for s, wing in enumerate(span_wings):
        if wing in row_of:
            influenced[row_of[wing]] |= within[s]
    chosen = np.ones(len(spans), dtype=bool) if evaluate is None else spans["cohort_id"].isin(list(evaluate)).to_numpy()
    for s in np.flatnonzero(chosen):
        if span_wings[s] not in row_of:
            continue
        w = row_of[span_wings[s]]
        others_here = (span_wings == span_wings[s]) & (np.arange(len(spans)) != s)
        alone = ~within[others_here].any(axis=0)  # no other cohort's influence on this wing that month
        other_wings = np.arange(len(wings)) != w
        cells = np.full((len(relative), 4), np.nan)  # own count, own years, comparison count, comparison years
        wanted = span_starts[s] + relative  # the calendar month of each relative month
        m = np.minimum(np.searchsorted(months, wanted), len(months) - 1)
        ok = (months[m] == wanted) & alone[m] & has_data[w, m]
        clean = other_wings[:, None] & ~influenced[:, m] & has_data[:, m]  # [wing, relative month]
        comparison_count = (counts[:, m] * clean).sum(axis=0)
        ok &= clean.any(axis=0) & (comparison_count > 0)
        cells[ok] = np.column_stack([counts[w, m], exposure[w, m], comparison_count, (exposure[:, m] * clean).sum(axis=0)])[ok]
        present = ~np.isnan(cells[:, 0])
        before = present & (relative < 0)
        if not before.any():
            continue  # no month before the first workshop: no reference for this cohort
        own, own_years, other, other_years = cells[before].sum(axis=0)
        reference = (max(own, 0.5) / own_years) / (max(other, 0.5) / other_years)
        expected = cells[:, 1] * cells[:, 2] / cells[:, 3] * reference
        sums[present] += np.column_stack([
            cells[present, 0], expected[present], cells[present, 1], cells[present, 2], cells[present, 3],
            np.full(present.sum(), own), np.full(present.sum(), other),
        ])
        used[present] += 1
    return sums, used


def wing_summary(wing_rates: pd.DataFrame) -> pd.DataFrame:
    """Per wing: rate over the latest 12 months, over the 12 before, the change, and the SPC signal
    of the latest special cause in those 12 months (limits from the wing's whole series)."""
    ordered = wing_rates.assign(month=pd.to_datetime(wing_rates["month"])).sort_values("month")
    last = ordered["month"].max()
    latest_start = (last - pd.DateOffset(months=11)).to_datetime64()
    previous_start = (last - pd.DateOffset(months=23)).to_datetime64()
    rows = []
    for (wing_id, wing_name), frame in ordered.groupby(["wing_id", "wing_name"]):
        months = frame["month"].to_numpy()
        incidents, years = frame["incidents"].to_numpy(dtype=float), frame["prisoner_years"].to_numpy(dtype=float)
        latest = months >= latest_start
        previous = (months >= previous_start) & ~latest
        signals = np.array(stats.xmr(frame["rate"].fillna(0).tolist()).signals(lower_is_better=True))[latest]
        special = signals[signals != "common cause"]
        latest_rate = incident_rate(incidents[latest].sum(), years[latest].sum())
        previous_rate = incident_rate(incidents[previous].sum(), years[previous].sum()) if previous.sum() == 12 else float("nan")
        rows.append({
            "wing_id": wing_id,
            "wing_name": wing_name,
            "incidents_latest_12_months": int(incidents[latest].sum()),
            "incidents_previous_12_months": int(incidents[previous].sum()) if previous.sum() == 12 else None,
            "prisoner_years_latest_12_months": float(years[latest].sum()),
            "rate_latest_12_months": latest_rate,
            "rate_previous_12_months": previous_rate,
            "change": latest_rate / previous_rate - 1 if previous_rate and previous_rate > 0 else float("nan"),
            "spc_signal": special[-1] if len(special) else "common cause",
        })
    return pd.DataFrame(rows)


def wing_methods_note(summary: pd.DataFrame) -> str:
    """Where a wing's SPC signal in the last 12 months reads against its change on the 12 before, why."""
    differences = []
    for row in summary.itertuples():
        direction = "none" if pd.isna(row.change) or row.change == 0 else "lower" if row.change < 0 else "higher"
        if signal_disagrees(direction, row.spc_signal):
            moved = "no 12 months before to compare" if pd.isna(row.change) else f"rate {fmt('change', row.change)} on the 12 months before"
            differences.append(f"{md(row.wing_name)}: {code_label('spc_signal', row.spc_signal).lower()}, {moved}")
    return methods_differ_note(differences, "a month in the last 12")


FEW_INCIDENTS_FOR_A_CHANGE = 10  # under this many in either year, a percentage change is mostly chance


def wing_table(summary: pd.DataFrame, cohorts: pd.DataFrame) -> pd.DataFrame:
    """The wing summary as a reader takes it in: wing, rates and change first, then the SPC signal,
    counts, prisoner-years and how many cohorts ran on the wing. A change over few incidents says so."""
    fewest = summary[["incidents_latest_12_months", "incidents_previous_12_months"]].min(axis=1)
    few = summary["change"].notna() & (fewest < FEW_INCIDENTS_FOR_A_CHANGE)
    note = pd.Series("", index=summary.index).where(~few, f"fewer than {FEW_INCIDENTS_FOR_A_CHANGE} incidents in a year: the change is "
                                                          "mostly chance")
    return pd.DataFrame({
        "wing": summary["wing_name"], "rate_last_12": summary["rate_latest_12_months"],
        "rate_previous_12": summary["rate_previous_12_months"], "change": summary["change"], "note": note,
        "spc_signal": summary["spc_signal"],
        "incidents_last_12": summary["incidents_latest_12_months"], "prisoner_years_last_12": summary["prisoner_years_latest_12_months"],
        "cohorts_on_wing": summary["wing_id"].map(cohorts["wing_id"].value_counts()).fillna(0).astype(int),
        "wing_id": summary["wing_id"],
    })


def wing_monthly_download(rates: pd.DataFrame) -> pd.DataFrame:
    return rates.rename(columns={"wing_name": "wing"})[["month", "wing", "wing_id", "incidents", "prisoner_years", "rate"]]


def spc_download(series: pd.DataFrame) -> pd.DataFrame:
    """An XmR chart's data: each month's rate, the mean and limits, the signal and the rules met."""
    return series.rename(columns={"wing_name": "wing", "mean": "spc_mean", "lower": "spc_lower", "upper": "spc_upper",
                                  "signal": "spc_signal"})[
        ["month", "wing", "rate", "spc_mean", "spc_lower", "spc_upper", "spc_signal", "outside_limits", "run", "trend",
         "two_of_three", "incidents", "prisoner_years"]]


def before_after_table(table: pd.DataFrame) -> pd.DataFrame:
    """Each cohort's comparison, the ratio of changes and its interval first, then the four rates behind
    it; the note (why a cohort is left out: long, and on only some rows) last, so the figures sit together."""
    return table.rename(columns={"cohort_label": "cohort", "ratio": "ratio_of_changes"})[
        ["cohort", "ratio_of_changes", "ratio_low", "ratio_high", "wing_before_rate", "wing_after_rate",
         "others_before_rate", "others_after_rate", "comparison_wings", "first_workshop", "last_workshop", "note"]]


def before_after_download(table: pd.DataFrame) -> pd.DataFrame:
    """The cohort table with the counts and prisoner-years behind each rate."""
    counts = [f"{cell}_{part}" for cell in ("wing_before", "wing_after", "others_before", "others_after")
              for part in ("incidents", "prisoner_years")]
    return before_after_table(table).join(table[["prison_id", "cohort_id", "wing_id", *counts]])


def event_study_download(event: pd.DataFrame) -> pd.DataFrame:
    return event.rename(columns={"ratio": "ratio_to_expected", "cohorts": "cohorts_contributing"})[
        ["months_from_first_workshop", "ratio_to_expected", "ratio_low", "ratio_high", "cohorts_contributing", *_SUMS]]


OVERDISPERSION_TEST_LEVEL = 0.05  # over-dispersion is "present" when its chi-square test rejects at this level
OUTSIDE_BUT_INTERVAL_HOLDS = "outside the 95% limit, yet its own 95% interval contains the reference rate (a borderline case)"


@dataclass(frozen=True)
class Funnel:
    table: pd.DataFrame  # one row per prison: rate, exact 95% CI, position against the funnel (adjusted and not)
    reference_rate: float
    overdispersion: stats.Overdispersion
    adjusted: bool  # limits widened by the additive random-effects tau²

    @property
    def tau2(self) -> float:
        return self.overdispersion.tau2 if self.adjusted else 0.0

    def limits(self, exposure, level: float, adjusted: bool | None = None):
        """Lower and upper limits on the rate scale at these prisoner-years: with the random-effects
        adjustment (when applied, or when `adjusted` asks), or exact Poisson limits without it."""
        if self.adjusted if adjusted is None else adjusted:
            return stats.random_effects_rate_limits(self.reference_rate, exposure, level, self.overdispersion.tau2)
        return stats.funnel_limits(self.reference_rate, exposure, level)


def _positions(rate, low95, high95, low998, high998) -> np.ndarray:
    return np.select(
        [rate > high998, rate > high95, rate < low998, rate < low95],
        ["above 99.8% limit", "above 95% limit", "below 99.8% limit", "below 95% limit"],
        "within limits",
    )


def funnel(prisons: pd.DataFrame, adjust_for_overdispersion: bool = True) -> Funnel:
    """Rates of the prisons in `prisons` (the `prison_counts` query, already narrowed to the group)
    against the group's pooled rate, with positions against 95% and 99.8% limits.

    Over-dispersion is tested as FunnelPlotR does for standardised ratios (SHMI method: log z-scores,
    10% truncated, phi and the chi-square test of n·phi on n − 1). Where it is present (the test
    rejects at 5%) and `adjust_for_overdispersion`, the limits are Spiegelhalter's additive
    random-effects limits (tau² added to each prison's sampling variance): with exposures this large
    prisons differ for reasons of their own, and exact Poisson limits would call nearly every prison
    an outlier. The positions without the adjustment are kept beside them."""
    prisons = prisons[prisons["prisoner_years"] > 0].copy()
    reference = incident_rate(prisons["incidents"].sum(), prisons["prisoner_years"].sum())
    expected = reference * prisons["prisoner_years"].to_numpy(dtype=float) / 1000
    assessment = stats.sr_overdispersion(prisons["incidents"].to_numpy(dtype=float), expected)
    adjusted = bool(adjust_for_overdispersion and assessment.overdispersed and assessment.p_value < OVERDISPERSION_TEST_LEVEL)
    result = Funnel(pd.DataFrame(), reference, assessment, adjusted)
    prisons["rate"] = incident_rate(prisons["incidents"], prisons["prisoner_years"])
    _, prisons["ci_low"], prisons["ci_high"] = stats.poisson_rate_intervals(prisons["incidents"], prisons["prisoner_years"])
    exposure, rate = prisons["prisoner_years"].to_numpy(), prisons["rate"].to_numpy()
    for column, use_adjustment in (("position", adjusted), ("position_unadjusted", False)):
        low95, high95 = result.limits(exposure, 0.95, use_adjustment)
        low998, high998 = result.limits(exposure, 0.998, use_adjustment)
        prisons[column] = _positions(rate, low95, high95, low998, high998)
    outside = prisons["position"] != "within limits"
    holds = (prisons["ci_low"] <= reference) & (reference <= prisons["ci_high"])
    prisons["note"] = np.where(outside & holds, OUTSIDE_BUT_INTERVAL_HOLDS, "")
    prisons["programme"] = prisons["runs_the_conversation"] | prisons["runs_good_prison_project"]
    table = prisons.sort_values("rate", ascending=False).reset_index(drop=True)
    return Funnel(table, reference, assessment, adjusted)


def programmes_run(prisons: pd.DataFrame) -> pd.Series:
    """Which programme each prison runs, in words ("" for neither)."""
    names = zip(prisons["runs_the_conversation"], prisons["runs_good_prison_project"])
    return pd.Series([" and ".join(n for n, runs in (("The Conversation", c), ("Good Prison Project", g)) if runs)
                      for c, g in names], index=prisons.index, dtype=object)


def funnel_ranked(result: Funnel) -> pd.DataFrame:
    """The funnel's prisons, ranked by rate, the columns a reader needs first: rate and interval,
    position and note, then counts, source, type and programme."""
    table = result.table
    ranked = pd.DataFrame({
        "prison": table["name"], "rate": table["rate"], "rate_low": table["ci_low"], "rate_high": table["ci_high"],
        "position": table["position"], "note": table["note"], "incidents": table["incidents"],
        "prisoner_years": table["prisoner_years"], "source": table["source"], "prison_type": table["prison_type"],
        "programme_prison": programmes_run(table), "prison_id": table["prison_id"],
    })
    return ranked.assign(position_unadjusted=table["position_unadjusted"]) if result.adjusted else ranked


def quarterly_download(quarterly: pd.DataFrame) -> pd.DataFrame:
    """The programme prisons' quarterly panels as a table: prison, series, quarter, counts and rate."""
    return pd.DataFrame({
        "prison": quarterly["panel"], "series": quarterly["series"], "quarter": quarterly["quarter"],
        "incidents": quarterly["incidents"], "prisoner_years": quarterly["prisoner_years"], "rate": quarterly["rate"],
        "comparison_prisons": quarterly["comparison_prisons"],
    })


FUNNEL_HOW_TO_READ = (
    "Each dot is a prison: across, how much time prisoners spent there (prisoner-years, the exposure); up, its "
    "rate. The flat line is the reference rate of the group compared. The funnel's lines show how far a prison of "
    "that size could sit from the reference by chance alone: most prisons fall inside the inner (95%) lines, and "
    "almost none outside the outer (99.8%) lines unless something real is different. Bigger prisons have narrower "
    "funnels because their rates are more precise.\n\n"
    "**The adjustment.** Prisons differ for reasons of their own (population, function, recording), more than "
    "chance alone allows. When a test finds that spread, the limits are widened by the amount prisons genuinely "
    "differ (Spiegelhalter's random-effects method, as used for NHS hospital indicators), so a prison outside them "
    "stands out even among prisons that differ. Turn on the unadjusted limits to see the difference.\n\n"
    "A prison outside the limits is a prompt to ask why, not a verdict: case mix and recording practice matter."
)


def sources_note(prisons: pd.DataFrame) -> str:
    """Which prisons' figures are published counts rather than recorded incidents, and which were
    left out because their published figures do not cover the period (the `prison_counts` query)."""
    published = prisons[(prisons["source"] == "published") & prisons["note"].isna()]
    left_out = prisons[prisons["note"].notna()]
    parts = []
    if not published.empty:
        names = ", ".join(md(n) for n in published["name"])
        parts.append(f"{count_of(len(published), 'prison')} from published counts and monthly populations (Safety in "
                     f"Custody tables and the population bulletin), not recorded incidents (diamonds on the plot): {names}.")
    if not left_out.empty:
        reasons = "; ".join(f"{md(r.name)} ({md(r.note, limit=None)})" for r in left_out.itertuples())
        parts.append(f"Left out: {reasons}.")
    return " ".join(parts)


def funnel_answer(result: Funnel, group_label: str, period: str, unit: str, yours=()) -> str:
    """The funnel's headline, generated from its table: how many prisons are outside, whether and why
    the limits were adjusted, where the viewer's (or the programme's) prisons sit, and the borderline
    cases where the funnel and a prison's own interval disagree."""
    table = result.table
    above = table["position"].str.startswith("above 99.8").sum()
    below = table["position"].str.startswith("below 99.8").sum()
    headline = (f"**{period}: against the reference rate of {md(group_label)}, {result.reference_rate:,.0f} {unit}, "
                f"{above} of {count_of(len(table), 'prison')} lie above the 99.8% limit and {below} below it.**")
    od = result.overdispersion
    p_value = "p < 0.001" if od.p_value < 0.001 else f"p = {od.p_value:.3f}"
    if result.adjusted:
        unadjusted = (~table["position_unadjusted"].isin(["within limits", "above 95% limit", "below 95% limit"])).sum()
        method = (f" Prisons differ more than chance allows (over-dispersion test {p_value}, dispersion ratio {od.phi:,.1f}), so the "
                  f"limits allow for it (Spiegelhalter's additive random-effects method); without that, {unadjusted} of "
                  f"{len(table)} would be outside the 99.8% limits.")
    else:
        method = (f" The prisons differ no more than chance allows (over-dispersion test {p_value}), so the limits are exact "
                  "Poisson limits." if od.n >= 2 else " Too few prisons to test how much they differ; the limits are exact Poisson limits.")
    mine = table[table["prison_id"].isin(list(yours))] if yours else table[table["programme"]]
    who = ("Your prison" if len(mine) == 1 else "Your prisons") if yours else "Programme prisons"
    places = ("; ".join(f"{md(r.name)} {r.rate:,.0f} ({r.position})" for r in mine.itertuples()) if not mine.empty
              else "none in this group")
    borderline = table[table["note"] != ""]
    caution = (" " + ", ".join(md(n) for n in borderline["name"]) + (" is" if len(borderline) == 1 else " are")
               + " outside the 95% limit, yet " + ("its" if len(borderline) == 1 else "each one's")
               + " own 95% interval contains the reference rate: a borderline case, not a clear difference."
               if not borderline.empty else "")
    return headline + method + f" {who}: {places}." + caution


def window_params(windows) -> dict:
    """The `prison_counts` parameters for windows [(start, end), ...] of whole months."""
    windows = list(windows)
    return {"window_starts": [pd.Timestamp(start).date() for start, _ in windows],
            "window_ends": [pd.Timestamp(end).date() for _, end in windows]}


def quarter_windows(period_start, period_end) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """The calendar quarters wholly inside [period_start, period_end): a quarterly trend compares like
    with like (a part-quarter at an edge would mix lengths, and published quarterly figures cannot be
    split)."""
    first = pd.Timestamp(period_start).to_period("Q")
    if first.start_time < pd.Timestamp(period_start):
        first += 1
    quarters = []
    while (first + 1).start_time <= pd.Timestamp(period_end):
        quarters.append((first.start_time, (first + 1).start_time))
        first += 1
    return quarters


def _is_programme(frame: pd.DataFrame) -> pd.Series:
    return frame["runs_the_conversation"] | frame["runs_good_prison_project"]


NO_POPULATION_IN_WINDOW = "it has no population in some of the months"


def _steady(counts: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Rows of prisons without a programme, whether each has figures in every window, and how many
    windows each covers."""
    windows = counts["window_start"].nunique()
    others = counts[~_is_programme(counts)]
    usable = others["note"].isna() & others["prisoner_years"].notna()
    covered = others.loc[usable, "prison_id"].value_counts()  # one row per prison and window
    return others, others["prison_id"].isin(covered.index[covered == windows]), covered


def steady_comparison(counts: pd.DataFrame) -> pd.DataFrame:
    """Of `prison_counts` rows over several windows, those of the prisons without a programme that have
    figures in every window: a comparison group whose membership changed between windows would move
    for that reason alone."""
    others, steady, _ = _steady(counts)
    return others[steady]


def left_out_of_comparison(counts: pd.DataFrame, steadiness=None) -> pd.DataFrame:
    """The prisons without a programme that `steady_comparison` leaves out, with the reason and how
    many windows they have figures for (`steadiness`: `_steady(counts)` when already worked out)."""
    others, steady, covered = steadiness or _steady(counts)
    gaps = others[~steady]
    first = gaps.drop_duplicates("prison_id")
    reasons = gaps.dropna(subset=["note"]).sort_values("window_start").drop_duplicates("prison_id").set_index("prison_id")["note"]
    return pd.DataFrame({
        "prison_id": first["prison_id"], "name": first["name"], "source": first["source"],
        "note": first["prison_id"].map(reasons).fillna(NO_POPULATION_IN_WINDOW),
        "windows_covered": first["prison_id"].map(covered).fillna(0).astype(int),
    }).sort_values("prison_id", ignore_index=True)


def quarterly_against_group(counts: pd.DataFrame) -> pd.DataFrame:
    """For each programme prison: its quarterly rate, and the pooled quarterly rate of prisons of
    the same type that run neither programme and have figures (recorded or published) in every
    quarter (the comparison group). `counts` is `prison_counts` over `quarter_windows`."""
    if counts.empty:
        return pd.DataFrame()
    counts = counts.assign(quarter=pd.to_datetime(counts["window_start"]))
    sums = {"incidents": ("incidents", "sum"), "prisoner_years": ("prisoner_years", "sum")}
    programme = counts[_is_programme(counts) & counts["note"].isna() & counts["prisoner_years"].notna()]
    panels = programme.drop_duplicates("prison_id")[["prison_id", "name", "prison_type"]]
    panels = panels.assign(panel=panels["name"] + " (" + panels["prison_id"] + ")")[["prison_id", "prison_type", "panel"]]
    own = programme.groupby(["prison_id", "quarter"], as_index=False).agg(**sums).merge(panels, on="prison_id")
    comparison = steady_comparison(counts)
    groups = (comparison.groupby(["prison_type", "quarter"], as_index=False)
              .agg(**sums, comparison_prisons=("prison_id", "nunique")).merge(panels, on="prison_type"))
    quarterly = pd.concat([own.assign(series="This prison"), groups.assign(series="Comparison group")], ignore_index=True)
    if quarterly.empty:
        return pd.DataFrame()
    quarterly["rate"] = incident_rate(quarterly["incidents"], quarterly["prisoner_years"])
    return quarterly.drop(columns="prison_type").sort_values(["panel", "series", "quarter"], ascending=[True, False, True], ignore_index=True)


def comparison_sources_note(counts: pd.DataFrame, windows_named: str = "quarters") -> str:
    """Which comparison prisons' figures are published counts, and which prisons without a programme
    are left out of a comparison over several windows and why (see `steady_comparison`)."""
    steadiness = _steady(counts)
    kept, left_out = steadiness[0][steadiness[1]], left_out_of_comparison(counts, steadiness)
    published = kept[kept["source"] == "published"].drop_duplicates("prison_id")
    parts = []
    if not published.empty:
        parts.append(f"The comparison groups include {count_of(len(published), 'prison')} from published counts and monthly "
                     f"populations rather than recorded incidents: {', '.join(md(n) for n in published['name'])}.")
    if not left_out.empty:
        windows = counts["window_start"].nunique()
        reasons = "; ".join(f"{md(r.name)} ({md(r.note, limit=None)}: figures for {r.windows_covered} of {windows} {windows_named})"
                            for r in left_out.itertuples())
        parts.append(f"Left out of the comparison groups, as they lack figures for some of the time compared: {reasons}.")
    return " ".join(parts)


# --- The Conversation: cohorts -------------------------------------------------------------

PLANNED_DAYS_FIRST_TO_LAST = 63  # three workshops across 9 weeks
OVER_PLAN_GRACE_DAYS = 7  # a cohort "ran over" when it took more than a week beyond the plan


def survey_change(items: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Paired change per item and role (the `survey_item_change` query) with its 95% CI, Cohen's
    d_z and response rate; fewer than `threshold` pairs: no figures, only the reason."""
    from dashboard.disclosure import is_reportable, too_few_message

    rows = []
    for r in items.itertuples():
        pairs = int(r.pairs)
        row = {"item": r.item, "role": r.role, "participants": int(r.participants), "pairs": pairs,
               "response_rate": pairs / r.participants if r.participants else float("nan")}
        if is_reportable(pairs, threshold):
            estimate = stats.mean_interval(pairs, float(r.mean_change), float(r.sd_change))
            row |= {"mean_change": estimate.value, "ci_low": estimate.lower, "ci_high": estimate.upper,
                    "cohens_dz": stats.cohens_dz(float(r.mean_change), float(r.sd_change)), "note": ""}
        else:
            row |= {"mean_change": None, "ci_low": None, "ci_high": None, "cohens_dz": None, "note": too_few_message(pairs, threshold)}
        rows.append(row)
    return pd.DataFrame(rows)


def still_running(cohorts: pd.DataFrame, data_end) -> pd.Series:
    """Cohorts short of three delivered sessions whose planned nine weeks (and the grace week) had not
    ended by `data_end`, the day the workshop data runs to: not yet complete, rather than incomplete."""
    if data_end is None:
        return pd.Series(False, index=cohorts.index)
    course_ends = pd.to_datetime(cohorts["start_date"]) + pd.Timedelta(days=PLANNED_DAYS_FIRST_TO_LAST + OVER_PLAN_GRACE_DAYS)
    return (cohorts["sessions_delivered"] < 3) & (course_ends > pd.Timestamp(data_end))


def cohort_headline(cohorts: pd.DataFrame, data_end=None) -> dict[str, str]:
    """The Cohorts page's tiles and their captions, written as shown; cohorts still in their planned
    weeks at `data_end` are said to be running, not counted as falling short."""
    planned, delivered = int(cohorts["sessions_planned"].sum()), int(cohorts["sessions_delivered"].sum())
    complete = int((cohorts["sessions_delivered"] >= 3).sum())
    running = int(still_running(cohorts, data_end).sum())
    # a cohort that has not delivered all three sessions has not run its course: its days so far say
    # nothing about the 9-week plan (one delivered workshop is 0 days), so it is left out, as in the chart
    days = cohorts.loc[cohorts["sessions_delivered"] >= 3, "days_first_to_last"].dropna()
    over = int((days > PLANNED_DAYS_FIRST_TO_LAST + OVER_PLAN_GRACE_DAYS).sum())
    return {
        "cohorts": fmt("cohorts", len(cohorts)),
        "sessions_delivered": f"{fmt('cohorts', delivered)} of {fmt('cohorts', planned)}",
        "sessions_delivered_caption": f"{fmt('sessions_delivered_share', share(delivered, planned))} of planned sessions",
        "cohorts_complete": f"{fmt('cohorts', complete)} of {fmt('cohorts', len(cohorts))}",
        "cohorts_complete_caption": (f"{fmt('sessions_delivered_share', share(complete, len(cohorts)))} of cohorts"
                                     + (f" · {count_of(running, 'cohort')} still running" if running else "")) if len(cohorts) else "",
        "median_days_first_to_last": fmt("median_days_first_to_last", days.median() if len(days) else None),
        "median_days_caption": f"plan {PLANNED_DAYS_FIRST_TO_LAST} days · {count_of(over, 'cohort')} ran over by more than a week",
    }


def cohort_table(cohorts: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """One row per cohort as the SDM reads it; the mean change is blank under `threshold` pairs."""
    reportable = cohorts["pairs"].map(lambda n: n >= threshold)
    return pd.DataFrame({
        "cohort": cohorts["cohort_id"], "prison": cohorts["prison_name"], "wing": cohorts["wing_name"], "sdm": cohorts["sdm"],
        "start_date": cohorts["start_date"], "sessions_delivered_count": cohorts["sessions_delivered"],
        "workshops_rescheduled": cohorts["workshops_rescheduled"], "workshops_cancelled": cohorts["workshops_cancelled"],
        "days_first_to_last": cohorts["days_first_to_last"], "prisoners": cohorts["prisoners"], "staff": cohorts["staff"],
        "attendance_rate": cohorts["attendance_rate"], "pairs": cohorts["pairs"], "response_rate": cohorts["response_rate"],
        "mean_change": cohorts["mean_change"].where(reportable),
    })


def services_sentence(services: pd.DataFrame) -> str:
    """The service map in one sentence: how many services, how many gaps (and where most), and the
    share of available services that continue through the gate."""
    gaps = services[services["status"] == "gap"]
    through = services[services["status"] == "available"]["through_the_gate"]
    most = code_label("category", gaps["category"].value_counts().index[0]).lower() if len(gaps) else "–"
    return (f"**{fmt('services_available', len(services))} services mapped across {services['prison_id'].nunique()} prisons, "
            f"{fmt('services_gap', len(gaps))} of them gaps (most in {most}); "
            f"{fmt('through_the_gate_share', through.mean() if len(through) else None)} of available services continue "
            "through the gate.**")


def services_table(services: pd.DataFrame, by: str = "category") -> pd.DataFrame:
    """Services available and gaps per prison and `by` (category, or protected characteristic: free text
    from the extract, its first letter capitalised so "veterans" and "Veterans" are one group)."""
    groups = services[by] if by == "category" else services[by].map(first_upper)
    counts = services.assign(available=services["status"] == "available", gap=services["status"] == "gap", **{by: groups})
    table = counts.groupby(["prison", by], as_index=False)[["available", "gap"]].sum()
    return table.rename(columns={"available": "services_available", "gap": "services_gap"})[
        [by, "prison", "services_available", "services_gap"]].sort_values([by, "prison"], ignore_index=True)


def gpp_safety_table(safety: pd.DataFrame) -> pd.DataFrame:
    """The safety comparison as read: each prison's rates before, during and after, its comparison
    group's, and the ratios of changes with their intervals (rounded to what is shown)."""
    return pd.DataFrame({
        "prison": safety["name"],
        **{f"{who}_{window}_rate": safety[f"{who}_{window}_rate"] for who in ("prison", "comparison")
           for window in ("before", "during", "after")},
        "comparison_prisons": safety["comparison_prisons"],
        "ratio_during": safety["ratio_during"], "ratio_during_ci": interval_text(safety["ratio_during_low"], safety["ratio_during_high"]),
        "ratio_after": safety["ratio_after"], "ratio_after_ci": interval_text(safety["ratio_after_low"], safety["ratio_after_high"]),
    })


def gpp_safety_download(safety: pd.DataFrame) -> pd.DataFrame:
    return safety.rename(columns={"name": "prison"}).drop(columns=["comparison_published", "comparison_left_out"])


def events_table(events: pd.DataFrame) -> pd.DataFrame:
    return events.rename(columns={"name": "event", "prisoners_attending": "prisoners_at_event", "staff_attending": "staff_at_event"})[
        ["event", "prison", "held_on", "providers_attending", "prisoners_at_event", "staff_at_event", "connections_made"]]


def referral_outcomes(referrals: pd.DataFrame, k: int, protected: bool) -> tuple[pd.DataFrame, str]:
    """Referrals by outcome (and all), as the viewer may see them, and the sentence above them: how
    many, the share of decided referrals that led to engagement, how many still pending."""
    outcomes = referrals.groupby("outcome")["referrals"].sum()
    decided = outcomes.drop("pending", errors="ignore").sum()
    shown = disclosure.protect(outcomes.to_dict(), ("all", outcomes.sum()), k, protected)
    # with the engaged count beside it, the share would give back a hidden pending count
    engaged_share = disclosure.share(int(outcomes.get("engaged", 0)), int(decided), k, protected)
    share_hidden = engaged_share is None or (protected and disclosure.is_hidden(shown.get("pending", "0")))
    engaged = "a share not shown (small counts)" if share_hidden else fmt("improved_share", engaged_share)
    sentence = (f"**{shown['all']} referrals; {engaged} of those decided led to engagement** "
                f"({shown.get('pending', '0')} still pending).")
    return pd.DataFrame({"outcome": list(shown), "referrals": list(shown.values())}), sentence


def referrals_by_quarter(referrals: pd.DataFrame) -> pd.DataFrame:
    quarter = pd.to_datetime(referrals["month"]).dt.to_period("Q").dt.to_timestamp()
    return referrals.assign(quarter=quarter).groupby(["quarter", "outcome"], as_index=False)["referrals"].sum()


def retention(sessions: pd.DataFrame) -> pd.DataFrame:
    """Share of participants attending sessions 1, 2 and 3 by role, over the cohorts that
    delivered that session (the `session_attendance` query)."""
    if sessions.empty:
        return pd.DataFrame(columns=["role", "session_number", "attended", "participants", "share"])
    out = sessions.groupby(["role", "session_number"], as_index=False)[["attended", "participants"]].sum()
    out["share"] = out["attended"] / out["participants"]
    return out


def staff_mix(sessions: pd.DataFrame) -> pd.DataFrame:
    """Per cohort and session: staff and prisoners in the room, and staff per 10 prisoners."""
    if sessions.empty:
        return pd.DataFrame(columns=["cohort_id", "session_number", "prisoner", "staff", "staff_per_10_prisoners"])
    wide = sessions.pivot_table(index=["cohort_id", "session_number"], columns="role", values="attended", fill_value=0).reset_index()
    for role in ("prisoner", "staff"):
        if role not in wide:
            wide[role] = 0
    wide["staff_per_10_prisoners"] = 10 * wide["staff"] / wide["prisoner"].where(wide["prisoner"] > 0)
    return wide[["cohort_id", "session_number", "prisoner", "staff", "staff_per_10_prisoners"]]


# --- Reoffending (Justice Data Lab) ------------------------------------------------------------

NOT_PROOF = "not proof the programme had no effect"


def _jdl_direction(low: float, high: float) -> str | None:
    """"reduction" or "increase" only when the 95% interval of the difference excludes no difference."""
    return "reduction" if high < 0 else "increase" if low > 0 else None


def jdl_verdict(measure: str, low: float, high: float, short: bool = False) -> str:
    """The Justice Data Lab's kind of wording, generated from the 95% interval of the difference: a
    significant reduction or increase only when the interval excludes no difference."""
    words = code_label("reoffending_measure", measure).split(" (")[0].lower()
    if (direction := _jdl_direction(low, high)):
        return f"a significant {direction} in {words}"
    return f"no significant difference in {words}" + ("" if short else f" ({NOT_PROOF})")


def jdl_result(low: float, high: float) -> str:
    """The same verdict in a table row that already names its measure (the caveat is in the sentence above)."""
    direction = _jdl_direction(low, high)
    return f"Significant {direction}" if direction else "No significant difference"


def reoffending_table(results: pd.DataFrame) -> pd.DataFrame:
    """Each published result (the `reoffending` query): the verdict, both groups' values, the difference
    with its interval, the group sizes and when it was published."""
    results = measure_order(results)
    return pd.DataFrame({
        "reoffending_measure": results["measure"],
        "jdl_verdict": [jdl_verdict(r.measure, r.difference_low, r.difference_high) for r in results.itertuples()],
        "treatment_value": results["treatment_value"], "comparison_value": results["comparison_value"],
        "reoffending_difference": results["difference"], "difference_low": results["difference_low"], "difference_high": results["difference_high"],
        "treatment_n": results["treatment_n"], "comparison_n": results["comparison_n"], "p_value": results["p_value"],
        "analysis": results["title"], "published_on": results["published_on"],
    })


def reoffending_by_analysis(results: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """What a page shows of the published results: a table per analysis, latest first, narrow enough
    for the page (the verdict, both groups' values, the difference with its interval), under a line
    naming the analysis and its group sizes when there is more than one (the sentence above names the
    latest). The whole published table, p-values included, is `reoffending_table`, the download."""
    shown = []
    analyses = results.drop_duplicates("analysis_id")
    for analysis in analyses.itertuples():
        rows = measure_order(results[results["analysis_id"] == analysis.analysis_id])
        heading = (f"{md(analysis.title, limit=None)}, published {long_day_label(pd.Timestamp(analysis.published_on))}: "
                   f"{fmt('treatment_n', analysis.treatment_n)} participants and {fmt('comparison_n', analysis.comparison_n)} "
                   "matched people." if len(analyses) > 1 else "")
        shown.append((heading, pd.DataFrame({
            "reoffending_measure": rows["measure"],
            "jdl_verdict": [jdl_result(r.difference_low, r.difference_high) for r in rows.itertuples()],
            "treatment_value": rows["treatment_value"], "comparison_value": rows["comparison_value"],
            "reoffending_difference": rows["difference"], "difference_low": rows["difference_low"],
            "difference_high": rows["difference_high"],
        })))
    return shown


def reoffending_sentence(results: pd.DataFrame) -> str:
    """How many analyses exist and when each was published, then the latest one's results in words."""
    if results.empty:
        return ""
    analyses = results.drop_duplicates("analysis_id")
    latest = analyses.iloc[0]
    listed = "; ".join(f"{md(a.title, limit=None)}, published {long_day_label(pd.Timestamp(a.published_on))}" for a in analyses.itertuples())
    mine = measure_order(results[results["analysis_id"] == latest["analysis_id"]])
    found = "; ".join(
        f"{jdl_verdict(r.measure, r.difference_low, r.difference_high, short=True)} ({fmt('treatment_value', r.treatment_value)} against "
        f"{fmt('comparison_value', r.comparison_value)}, 95% CI of the difference {fmt('difference_low', r.difference_low)} to "
        f"{fmt('difference_high', r.difference_high)})" for r in mine.itertuples())
    return (f"**{count_of(len(analyses), 'published reoffending analysis', 'published reoffending analyses')}** ({listed}). "
            f"The latest compared {fmt('treatment_n', latest['treatment_n'])} participants with {fmt('comparison_n', latest['comparison_n'])} "
            f"similar people who did not take part, one year from release: {found}. A matched comparison, not a randomised trial; "
            f"no significant difference is {NOT_PROOF}.")


DETECTION_POWER, DETECTION_LEVEL = 0.8, 0.05
REDUCTION_TO_DETECT = 5.0  # percentage points: the fall in proven reoffending a funder might hope for


def reoffending_detectable(results: pd.DataFrame) -> str:
    """What the latest analysis could detect: the smallest fall in proven reoffending its group sizes find
    80% of the time at the 5% level, and how many participants (with as many matched) a fall of 5 points
    needs (R's power.prop.test)."""
    rate = results[results["measure"] == "proven_reoffending_rate"]
    if rate.empty:
        return ""
    r = rate.iloc[0]
    baseline = r["comparison_value"] / 100
    smallest = stats.smallest_detectable_difference(int(r["treatment_n"]), int(r["comparison_n"]), baseline,
                                                    DETECTION_POWER, DETECTION_LEVEL)
    target = baseline - REDUCTION_TO_DETECT / 100
    needed = stats.n_for_power(target, baseline, DETECTION_POWER, DETECTION_LEVEL) if target > 0 else math.nan
    found = ("no fall is detectable with groups this size" if math.isnan(smallest)
             else f"a fall of at least {smallest * 100:.1f} percentage points from {baseline:.1%} would be found "
                  f"{DETECTION_POWER:.0%} of the time at the {DETECTION_LEVEL:.0%} level")
    return (f"What these groups could detect: with {fmt('treatment_n', r['treatment_n'])} participants and "
            f"{fmt('comparison_n', r['comparison_n'])} matched people, {found}. Detecting a fall of {REDUCTION_TO_DETECT:.0f} "
            f"points would need about {fmt('treatment_n', math.ceil(needed))} participants and as many matched people "
            "(a two-proportion test, as R's power.prop.test)." if not math.isnan(needed) else "")


def reoffending_report_rows(results: pd.DataFrame) -> list[tuple[str, str]]:
    """The latest analysis, a line per measure as plain text (for the funder report)."""
    if results.empty:
        return []
    latest = measure_order(results[results["analysis_id"] == results.iloc[0]["analysis_id"]])
    return [(code_label("reoffending_measure", r.measure),
             f"{jdl_verdict(r.measure, r.difference_low, r.difference_high)}: {fmt('treatment_value', r.treatment_value)} among "
             f"{fmt('treatment_n', r.treatment_n)} participants against {fmt('comparison_value', r.comparison_value)} among "
             f"{fmt('comparison_n', r.comparison_n)} matched people; difference {fmt('reoffending_difference', r.difference)} "
             f"(95% CI {fmt('difference_low', r.difference_low)} to {fmt('difference_high', r.difference_high)})")
            for r in latest.itertuples()]


def measure_order(results: pd.DataFrame) -> pd.DataFrame:
    order = {m: i for i, m in enumerate(REOFFENDING_MEASURES)}
    return results.assign(_order=results["measure"].map(order)).sort_values(
        ["published_on", "analysis_id", "_order"], ascending=[False, True, True], kind="stable").drop(columns="_order")


def timeline_table(cohorts: pd.DataFrame) -> pd.DataFrame:
    """The cohort timeline's data: each cohort's place, dates and sessions delivered."""
    return pd.DataFrame({
        "cohort": cohorts["cohort_id"], "prison": cohorts["prison_name"], "wing": cohorts["wing_name"], "sdm": cohorts["sdm"],
        "first_scheduled": cohorts["first_scheduled"], "last_delivered": cohorts["last_delivered"],
        "sessions_delivered_count": cohorts["sessions_delivered"], "days_first_to_last": cohorts["days_first_to_last"],
    })


def retention_table(kept: pd.DataFrame) -> pd.DataFrame:
    return kept.rename(columns={"share": "retention"})[["role", "session_number", "retention", "attended", "participants"]]


def likert_table(shares: pd.DataFrame) -> pd.DataFrame:
    return shares.rename(columns={"share": "answer_share"})[["item", "wave", "score", "answers", "answer_share"]]


def staff_mix_table(mix: pd.DataFrame) -> pd.DataFrame:
    return mix.rename(columns={"cohort_id": "cohort", "prisoner": "prisoners_attending", "staff": "staff_attending"})


def retention_sentence(kept: pd.DataFrame) -> str:
    """Retention by session in words: each role's share attending sessions 1, 2 and 3."""
    return ("**Retention by session:** " + "; ".join(
        f"{ROLE_LABELS[r].lower()} {' → '.join(fmt('retention', v) for v in g.sort_values('session_number')['share'])}"
        for r, g in kept.groupby("role"))
        + " (share of participants attending sessions 1, 2 and 3, over cohorts that delivered that session).")


def staff_mix_sentence(mix: pd.DataFrame) -> str:
    return (f"**Staff in the room:** median {fmt('staff_per_10_prisoners', mix['staff_per_10_prisoners'].median())} staff per 10 "
            f"prisoners at a session; {_sessions_without(mix['staff'], 'staff')} and "
            f"{_sessions_without(mix['prisoner'], 'prisoners')}. The programme depends on both being there.")


def _sessions_without(people: pd.Series, who: str) -> str:
    missing = int((people == 0).sum())
    return f"{count_of(missing, 'session')} had no {who}" if missing else f"every session had {who}"


def survey_change_table(change: pd.DataFrame) -> pd.DataFrame:
    return change.rename(columns={"ci_low": "change_low", "ci_high": "change_high"})[
        ["item", "role", "mean_change", "change_low", "change_high", "pairs", "participants", "response_rate", "cohens_dz", "note"]]


def largest_change_sentence(change: pd.DataFrame) -> str:
    """The largest reportable paired change, with its interval and pairs ("" when none is reportable)."""
    reportable = change.dropna(subset=["mean_change"])
    if reportable.empty:
        return ""
    best = reportable.sort_values("mean_change", ascending=False).iloc[0]
    return (f"**Largest paired change: {code_label('item', best['item']).lower()} among {ROLE_LABELS[best['role']].lower()}, "
            f"{fmt('mean_change', best['mean_change'])} points (95% CI {fmt('change_low', best['ci_low'])} to "
            f"{fmt('change_high', best['ci_high'])}, {best['pairs']} pairs).** Changes among participants, with no comparison "
            "group: not evidence of cause.")


def likert_shares(distribution: pd.DataFrame) -> pd.DataFrame:
    """Share of answers at each score per item and wave, for a diverging stacked bar."""
    if distribution.empty:
        return distribution.assign(share=[])
    totals = distribution.groupby(["item", "wave"])["answers"].transform("sum")
    return distribution.assign(share=distribution["answers"] / totals)


# --- Good Prison Project -------------------------------------------------------------------

COMPARED_AROUND_MONTHS = 12  # the coordinator period is compared with up to a year before and after it


def coordinator_periods(sites: pd.DataFrame) -> dict[str, dict[str, tuple[pd.Timestamp, pd.Timestamp]]]:
    """Per Good Prison Project prison, from the `programme_sites` query: [start, end) months before
    (a year), during (the coordinator's first month to the month after the last day) and after (a
    year). A prison whose coordinator period has no end yet has no 'after'."""
    periods = {}
    for site in sites[sites["programme"] == "good_prison_project"].itertuples():
        start = pd.Timestamp(site.started_on).to_period("M").to_timestamp()
        if site.ended_on is None or pd.isna(site.ended_on):
            continue
        end = pd.Timestamp(site.ended_on).to_period("M").to_timestamp() + pd.DateOffset(months=1)
        periods[site.prison_id] = {
            "before": (start - pd.DateOffset(months=COMPARED_AROUND_MONTHS), start),
            "during": (start, end),
            "after": (end, end + pd.DateOffset(months=COMPARED_AROUND_MONTHS)),
        }
    return periods


def coordinator_span(periods: dict) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """From the earliest coordinator start to the latest end, for shading a chart."""
    if not periods:
        return None
    return min(p["during"][0] for p in periods.values()), max(p["during"][1] for p in periods.values())


def gpp_not_yours(sites: pd.DataFrame, yours: tuple[str, ...]) -> str:
    """For a governor none of whose prisons had a coordinator: that the page is the project's prisons',
    so its figures are not read as hers ("" when one of hers did, or for other roles: `yours` empty)."""
    gpp = set(sites.loc[sites["programme"] == "good_prison_project", "prison_id"])
    if not yours or not gpp or gpp & set(yours):
        return ""
    whose = "Your prison is not" if len(yours) == 1 else "None of your prisons is"
    return f"{whose} one of the project's: the figures here are those of the prisons where its coordinator worked, shown to every role."


def coordinator_sentence(sites: pd.DataFrame) -> str:
    """Where and when the Good Prison Project's coordinators worked, from `programme_sites`, or
    what is missing."""
    gpp = sites[sites["programme"] == "good_prison_project"]
    if gpp.empty:
        return ("Where and when the coordinators worked comes from the `programme_sites` extract, which has no Good "
                "Prison Project rows: the comparison around the coordinator period cannot be drawn (see the Data page).")
    def span(row) -> str:
        until = f"to {pd.Timestamp(row.ended_on):%B %Y}" if row.ended_on is not None and not pd.isna(row.ended_on) else "onwards"
        return f"from {pd.Timestamp(row.started_on):%B %Y} {until}"
    spans = {}
    for row in gpp.itertuples():
        spans.setdefault(span(row), []).append(md(row.name))
    places = "; ".join(f"at {', '.join(names)} {when}" for when, names in spans.items())
    return (f"A voluntary-sector coordinator {places}: mapping services and gaps, briefing providers, and connecting "
            "people near release.")


def gpp_windows(periods: dict) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Every distinct window of the coordinator periods (see `coordinator_periods`), for one
    `prison_counts` call."""
    return sorted({window for prison in periods.values() for window in prison.values()})


def gpp_safety(counts: pd.DataFrame, periods: dict, count_as=None) -> pd.DataFrame:
    """For each Good Prison Project prison with a coordinator period in `periods` (see
    `coordinator_periods`): rates before, during and after it, the same for prisons of its type that
    run neither programme and have figures (recorded or published) in all three windows, and the
    ratio of changes (during and after, each against before) with 95% CIs. `counts` is
    `prison_counts` over `gpp_windows(periods)`.

    `count_as(count)` gives the count every figure is computed from (for a funder, the rounded
    count, None when it is hidden): rates and ratios then give back no more than is shown."""
    counts = counts.assign(window_start=pd.to_datetime(counts["window_start"]), window_end=pd.to_datetime(counts["window_end"]))
    by_window = dict(iter(counts.groupby(["window_start", "window_end"], sort=False)))
    sums = ["incidents", "prisoner_years"]
    rows = []
    gpp = counts[counts["runs_good_prison_project"] & counts["prison_id"].isin(list(periods))].drop_duplicates("prison_id")
    for prison in gpp.itertuples():
        windows = periods[prison.prison_id]
        mine = pd.concat([by_window[w] for w in windows.values() if w in by_window])
        steadiness = _steady(mine[mine["prison_type"] == prison.prison_type])
        group, left_out = steadiness[0][steadiness[1]], left_out_of_comparison(None, steadiness)
        own = mine[(mine["prison_id"] == prison.prison_id) & mine["note"].isna()].groupby(["window_start", "window_end"])[sums].sum()
        others = group.groupby(["window_start", "window_end"])[sums].sum()
        cells, exact = {}, {}
        for name, window in windows.items():
            for who, table in (("prison", own), ("comparison", others)):
                count, years = (float(table.at[window, "incidents"]), float(table.at[window, "prisoner_years"])) if window in table.index else (0.0, 0.0)
                exact[(who, name)] = count
                used = count_as(count) if count_as else count
                cells[(who, name)] = (None if used is None or not years else float(used), years)
        row = {"prison_id": prison.prison_id, "name": prison.name, "prison_type": prison.prison_type,
               "comparison_prisons": group["prison_id"].nunique(),
               "comparison_published": list(group.loc[group["source"] == "published", "name"].unique()),
               "comparison_left_out": [f"{r.name} ({r.note})" for r in left_out.itertuples()]}
        for (who, name), (count, years) in cells.items():
            row[f"{who}_{name}_incidents"] = exact[(who, name)]  # the page shows it as the viewer may see it
            row[f"{who}_{name}_prisoner_years"] = years
            row[f"{who}_{name}_rate"] = None if count is None else incident_rate(count, years)
        for name in ("during", "after"):
            used = (cells[("prison", "before")], cells[("prison", name)], cells[("comparison", "before")], cells[("comparison", name)])
            if any(count is None for count, _ in used):
                row |= {f"ratio_{name}": None, f"ratio_{name}_low": None, f"ratio_{name}_high": None}
                continue
            result = stats.ratio_of_rate_changes(*used)
            row |= {f"ratio_{name}": result.ratio, f"ratio_{name}_low": result.lower, f"ratio_{name}_high": result.upper}
        rows.append(row)
    return pd.DataFrame(rows)


def reconciliation_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The `published_reconciliation` rows as a reader checks them: the period in the publication's
    words, counts, populations and rates side by side, and whether they agree."""
    def period(row) -> str:
        last = pd.Timestamp(row.period_end) - pd.DateOffset(months=1)
        return f"{row.period_months} months to {last:%B %Y}" if row.period_months != 1 else f"{last:%B %Y}"

    return pd.DataFrame({  # what decides comes first: a wide table is cut at the page's edge
        "period": [period(r) for r in frame.itertuples()], "incident_type": frame["incident_type"],
        "check": frame["flag"].fillna("agrees"),
        "published_incidents": frame["published_incidents"], "recorded_incidents": frame["recorded_incidents"],
        "difference": frame["difference"], "published_rate": frame["published_rate"], "recorded_rate": frame["recorded_rate"],
        "published_population": frame["published_population"], "recorded_population": frame["recorded_population"],
        "prison": frame["name"], "publication": frame["source"],
    })


def reconciliation_summary(frame: pd.DataFrame) -> str:
    """One sentence: how many published figures agree with the recorded ones, and which do not."""
    flagged = frame[frame["flag"].notna()]
    prisons = ", ".join(md(n) for n in frame["name"].unique())
    head = (f"**{len(frame) - len(flagged)} of {count_of(len(frame), 'published figure')} for {prisons} agree with the "
            "recorded incidents and wing populations.**")
    if flagged.empty:
        return head + " Counts match exactly and populations within the bulletin's rounding."
    worst = flagged.reindex(flagged["difference"].abs().sort_values(ascending=False).index).head(3)
    said = "; ".join(f"{INCIDENT_TYPE_LABELS[r.incident_type].lower()}, period from {pd.Timestamp(r.period_start):%B %Y}: "
                     f"{r.flag} ({r.published_incidents:,} published, {r.recorded_incidents:,} recorded)" for r in worst.itertuples())
    return head + f" Look at: {said}" + (" and more in the table." if len(flagged) > 3 else ".")


def gpp_sources_note(safety: pd.DataFrame) -> str:
    """Which comparison prisons of the Good Prison Project table are published counts, and which were
    left out for lacking figures in one of the windows (the `gpp_safety` columns)."""
    parts = []
    for row in safety.itertuples():
        said = []
        if row.comparison_published:
            said.append(f"includes published counts of {', '.join(md(n) for n in row.comparison_published)}")
        if row.comparison_left_out:
            said.append(f"leaves out {'; '.join(md(n, limit=None) for n in row.comparison_left_out)}")
        if said:
            parts.append(f"{md(row.name)}'s comparison {' and '.join(said)}.")
    return " ".join(parts)



def interval_text(low: pd.Series, high: pd.Series) -> pd.Series:
    """Intervals as "0.71 to 0.93"; a dash where there is none (too few incidents, or hidden)."""
    present = low.notna() & high.notna()
    text = low.astype(float).map("{:.2f}".format) + " to " + high.astype(float).map("{:.2f}".format)
    return text.where(present, "–")
