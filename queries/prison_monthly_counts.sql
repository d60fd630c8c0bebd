-- Each prison × month: incidents of the chosen types (serious only if asked) and prisoner-years.
WITH population AS (
    SELECT w.prison_id, wp.month, sum(wp.average_population) / 12.0 AS prisoner_years
    FROM wing_population wp
    JOIN wings w USING (wing_id)
    WHERE wp.month >= $period_start AND wp.month < $period_end
    GROUP BY ALL
),
counts AS (
    SELECT i.prison_id, date_trunc('month', i.occurred_on)::DATE AS month, count(*) AS incidents
    FROM incidents i
    WHERE list_contains($incident_types, i.incident_type)
      AND (NOT $serious_only OR i.serious)
      AND i.occurred_on >= $period_start AND i.occurred_on < $period_end
    GROUP BY ALL
)
SELECT pop.prison_id, pop.month, coalesce(c.incidents, 0) AS incidents, pop.prisoner_years
FROM population pop
LEFT JOIN counts c USING (prison_id, month)
ORDER BY pop.prison_id, pop.month
