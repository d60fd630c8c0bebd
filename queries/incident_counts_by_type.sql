-- Incidents of each type in [period_start, period_end) over the prisoner-years of the same places.
-- With no wing chosen, a prison's incidents off the wings count too, over all its wings' population.
WITH population AS (
    SELECT prisoner_years(wp.average_population) AS prisoner_years
    FROM wing_population wp
    JOIN wings w USING (wing_id)
    WHERE in_chosen_places(w.prison_id, w.wing_id, $prison_ids, $wing_ids, $scope_prisons)
      AND wp.month >= $period_start AND wp.month < $period_end
),
counts AS (
    SELECT
        i.incident_type,
        sum(i.incidents)::BIGINT AS incidents,
        sum(i.serious_incidents)::BIGINT AS serious_incidents
    FROM incident_months i
    WHERE in_chosen_places(i.prison_id, i.wing_id, $prison_ids, $wing_ids, $scope_prisons)
      AND i.month >= $period_start AND i.month < $period_end
    GROUP BY i.incident_type
)
SELECT
    t.incident_type,
    coalesce(c.incidents, 0) AS incidents,
    coalesce(c.serious_incidents, 0) AS serious_incidents,
    p.prisoner_years
FROM unnest($incident_types) AS t(incident_type)
CROSS JOIN population p
LEFT JOIN counts c USING (incident_type)
ORDER BY t.incident_type
