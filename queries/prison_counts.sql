-- Each prison's incidents of the chosen types (serious only if asked) in [period_start,
-- period_end), over its prisoner-years in the same months, with what it is and what it runs.
WITH population AS (
    SELECT w.prison_id, sum(wp.average_population) / 12.0 AS prisoner_years
    FROM wing_population wp
    JOIN wings w USING (wing_id)
    WHERE wp.month >= $period_start AND wp.month < $period_end
    GROUP BY w.prison_id
),
counts AS (
    SELECT i.prison_id, sum(CASE WHEN $serious_only THEN i.serious_incidents ELSE i.incidents END)::BIGINT AS incidents
    FROM incident_months i
    WHERE list_contains($incident_types, i.incident_type)
      AND i.month >= $period_start AND i.month < $period_end
    GROUP BY i.prison_id
)
SELECT
    p.prison_id,
    p.name,
    p.prison_type,
    p.region,
    runs_programme(p.prison_id, 'the_conversation') AS runs_the_conversation,
    runs_programme(p.prison_id, 'good_prison_project') AS runs_good_prison_project,
    coalesce(c.incidents, 0) AS incidents,
    pop.prisoner_years
FROM prisons p
JOIN population pop USING (prison_id)
LEFT JOIN counts c USING (prison_id)
ORDER BY p.name
