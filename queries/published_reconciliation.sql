-- Prisons with both recorded incidents (and wing populations) and published figures: for each published
-- period and incident type, the published count beside the count of the prison's recorded incidents in
-- the same months, the published average population beside the average of its wing populations, and
-- both rates per 1,000 prisoners per year; `flag` says where they differ beyond rounding (counts are
-- whole numbers and must agree; the population bulletin rounds each month to a whole prisoner, so the
-- averages may differ by up to half a prisoner).
WITH row_level AS (
    SELECT DISTINCT w.prison_id FROM wing_population JOIN wings w USING (wing_id)
),
published AS (
    SELECT prison_id, period_start, period_months, (period_start + to_months(period_months))::DATE AS period_end,
           incident_type, incidents AS published_incidents, source
    FROM prison_incident_counts
    WHERE prison_id IN (SELECT prison_id FROM row_level)
),
recorded_counts AS (
    SELECT p.prison_id, p.period_start, p.period_months, p.incident_type, coalesce(sum(i.incidents), 0)::BIGINT AS recorded_incidents
    FROM published p
    LEFT JOIN incident_months i
      ON i.prison_id = p.prison_id AND i.incident_type = p.incident_type AND i.month >= p.period_start AND i.month < p.period_end
    GROUP BY ALL
),
periods AS (
    SELECT DISTINCT prison_id, period_start, period_months, period_end FROM published
),
recorded_monthly AS (
    SELECT w.prison_id, wp.month, sum(wp.average_population) AS population
    FROM wing_population wp JOIN wings w USING (wing_id)
    GROUP BY ALL
),
recorded_population AS (
    SELECT p.prison_id, p.period_start, p.period_months, avg(r.population) AS recorded_population, count(r.month) AS recorded_months
    FROM periods p
    LEFT JOIN recorded_monthly r ON r.prison_id = p.prison_id AND r.month >= p.period_start AND r.month < p.period_end
    GROUP BY ALL
),
published_population AS (
    SELECT p.prison_id, p.period_start, p.period_months, avg(pp.population) AS published_population, count(pp.month) AS published_months
    FROM periods p
    LEFT JOIN prison_population pp ON pp.prison_id = p.prison_id AND pp.month >= p.period_start AND pp.month < p.period_end
    GROUP BY ALL
)
SELECT
    p.prison_id,
    pr.name,
    p.period_start,
    p.period_end,
    p.period_months,
    p.incident_type,
    p.published_incidents,
    c.recorded_incidents,
    p.published_incidents - c.recorded_incidents AS difference,
    pp.published_population,
    rp.recorded_population,
    p.published_incidents * 1000.0 * 12 / (pp.published_population * p.period_months) AS published_rate,
    c.recorded_incidents * 1000.0 * 12 / (rp.recorded_population * p.period_months) AS recorded_rate,
    CASE
        WHEN pp.published_months < p.period_months THEN 'the published population lacks months of this period'
        WHEN rp.recorded_months < p.period_months THEN 'the wing populations lack months of this period'
        WHEN p.published_incidents <> c.recorded_incidents THEN 'counts differ'  -- neither is null: see published, recorded_counts
        WHEN abs(pp.published_population - rp.recorded_population) > 0.5 THEN 'populations differ beyond rounding'
    END AS flag,
    p.source
FROM published p
JOIN prisons pr USING (prison_id)
JOIN recorded_counts c USING (prison_id, period_start, period_months, incident_type)
JOIN recorded_population rp USING (prison_id, period_start, period_months)
JOIN published_population pp USING (prison_id, period_start, period_months)
ORDER BY pr.name, p.period_start, p.period_months, p.incident_type
