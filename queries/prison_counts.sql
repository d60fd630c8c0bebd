-- Each prison's incidents of the chosen types (serious only if asked) in [period_start, period_end),
-- over its prisoner-years in the same months, with what it is, what it runs and where its figures
-- come from. A prison with wing populations uses its row-level incidents (source 'recorded'). A prison
-- without takes its published counts and monthly population (source 'published') when they cover
-- every month of the period, whole periods only, the shortest period length that does; otherwise it
-- is listed with a note and no figures, so a page can say why it is left out.
WITH months_needed AS (
    SELECT datediff('month', $period_start::DATE, $period_end::DATE) AS months
),
row_level AS (
    SELECT DISTINCT w.prison_id FROM wing_population wp JOIN wings w USING (wing_id)
),
recorded_population AS (
    SELECT w.prison_id, sum(wp.average_population) / 12.0 AS prisoner_years
    FROM wing_population wp
    JOIN wings w USING (wing_id)
    WHERE wp.month >= $period_start AND wp.month < $period_end
    GROUP BY w.prison_id
),
recorded_counts AS (
    SELECT i.prison_id, sum(CASE WHEN $serious_only THEN i.serious_incidents ELSE i.incidents END)::BIGINT AS incidents
    FROM incident_months i
    WHERE list_contains($incident_types, i.incident_type)
      AND i.month >= $period_start AND i.month < $period_end
    GROUP BY i.prison_id
),
published_rows AS (
    SELECT prison_id, incident_type, period_months,
           CASE WHEN $serious_only THEN serious_incidents ELSE incidents END AS n
    FROM prison_incident_counts
    WHERE list_contains($incident_types, incident_type)
      AND period_start >= $period_start
      AND period_start + to_months(period_months) <= $period_end
      AND prison_id NOT IN (SELECT prison_id FROM row_level)
),
published_cover AS (
    SELECT prison_id, incident_type, period_months, sum(period_months) AS months, sum(n) AS n, count(*) - count(n) AS unknown
    FROM published_rows
    GROUP BY ALL
),
published_types AS (
    SELECT c.prison_id, c.incident_type, arg_min(c.n, c.period_months) AS n
    FROM published_cover c, months_needed m
    WHERE c.months = m.months AND c.unknown = 0
    GROUP BY ALL
),
published_counts AS (
    SELECT prison_id, sum(n)::BIGINT AS incidents
    FROM published_types
    GROUP BY prison_id
    HAVING count(*) = len($incident_types)
),
published_population AS (
    SELECT prison_id, sum(population) / 12.0 AS prisoner_years, count(*) AS months
    FROM prison_population
    WHERE month >= $period_start AND month < $period_end
    GROUP BY prison_id
),
published_prisons AS (
    SELECT prison_id FROM prison_incident_counts UNION SELECT prison_id FROM prison_population
),
sourced AS (
    SELECT
        p.prison_id,
        CASE WHEN r.prison_id IS NOT NULL THEN 'recorded' ELSE 'published' END AS source,
        CASE
            WHEN r.prison_id IS NOT NULL THEN NULL
            WHEN pc.prison_id IS NULL THEN 'its published counts do not cover every month of the period'
            WHEN coalesce(pp.months, 0) < m.months THEN 'its published population does not cover every month of the period'
        END AS note,
        CASE WHEN r.prison_id IS NOT NULL THEN coalesce(rc.incidents, 0) ELSE pc.incidents END AS incidents,
        CASE WHEN r.prison_id IS NOT NULL THEN rp.prisoner_years ELSE pp.prisoner_years END AS prisoner_years
    FROM prisons p
    CROSS JOIN months_needed m
    LEFT JOIN row_level r USING (prison_id)
    LEFT JOIN recorded_population rp USING (prison_id)
    LEFT JOIN recorded_counts rc USING (prison_id)
    LEFT JOIN published_counts pc USING (prison_id)
    LEFT JOIN published_population pp USING (prison_id)
    WHERE (r.prison_id IS NOT NULL AND rp.prisoner_years IS NOT NULL)
       OR (r.prison_id IS NULL AND p.prison_id IN (SELECT prison_id FROM published_prisons))
)
SELECT
    p.prison_id,
    p.name,
    p.prison_type,
    p.region,
    coalesce(r.runs_the_conversation, false) AS runs_the_conversation,
    coalesce(r.runs_good_prison_project, false) AS runs_good_prison_project,
    s.source,
    CASE WHEN s.note IS NULL THEN s.incidents END AS incidents,
    CASE WHEN s.note IS NULL THEN s.prisoner_years END AS prisoner_years,
    s.note
FROM prisons p
JOIN sourced s USING (prison_id)
LEFT JOIN prison_programmes r USING (prison_id)
ORDER BY p.name
