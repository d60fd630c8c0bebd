-- Each prison × month: incidents of the chosen types (serious only if asked) and prisoner-years.
WITH population AS (
    SELECT w.prison_id, wp.month, sum(wp.average_population) / 12.0 AS prisoner_years
    FROM wing_population wp
    JOIN wings w USING (wing_id)
    WHERE wp.month >= $period_start AND wp.month < $period_end
    GROUP BY ALL
),
counts AS (
    SELECT i.prison_id, i.month, sum(CASE WHEN $serious_only THEN i.serious_incidents ELSE i.incidents END)::BIGINT AS incidents
    FROM incident_months i
    WHERE list_contains($incident_types, i.incident_type)
      AND i.month >= $period_start AND i.month < $period_end
    GROUP BY ALL
)
SELECT pop.prison_id, pop.month, coalesce(c.incidents, 0) AS incidents, pop.prisoner_years
FROM population pop
LEFT JOIN counts c USING (prison_id, month)
ORDER BY pop.prison_id, pop.month
