"""Independent computations the tests compare the dashboard with: pandas over the sample's Parquet,
written from the contract's rules, never from the dashboard's own code."""

import pandas as pd


def in_period(frame, column, p):
    dates = pd.to_datetime(frame[column])
    return frame[(dates >= pd.Timestamp(p["period_start"])) & (dates < pd.Timestamp(p["period_end"]))]


def published_figures(raw, prison, types, serious_only, start, end):
    """Independently: a prison's published counts over [start, end) when, for every type, periods of
    one length lie inside it and tile every month (the shortest such length), and its population
    covers every month; else None."""
    months = pd.date_range(start, end, freq="MS", inclusive="left")
    counts = raw("prison_incident_counts").query("prison_id == @prison")
    begins = pd.to_datetime(counts["period_start"])
    ends = [b + pd.DateOffset(months=int(n)) for b, n in zip(begins, counts["period_months"])]
    inside = counts[(begins >= pd.Timestamp(start)) & (pd.Series(ends, index=counts.index) <= pd.Timestamp(end))]
    total = 0
    for incident_type in types:
        for length in (1, 3, 12):
            rows = inside[(inside["incident_type"] == incident_type) & (inside["period_months"] == length)]
            values = rows["serious_incidents" if serious_only else "incidents"]
            if rows["period_months"].sum() == len(months) and values.notna().all():
                total += int(values.sum())
                break
        else:
            return None
    population = raw("prison_population").query("prison_id == @prison")
    population = population[pd.to_datetime(population["month"]).isin(months)]
    if len(population) < len(months):
        return None
    return total, population["population"].sum() / 12
