-- Monthly incidents of each type over the prisoner-years of the same places and month.
WITH population AS (
    SELECT wp.month, sum(wp.average_population) / 12.0 AS prisoner_years
    FROM wing_population wp
    JOIN wings w USING (wing_id)
    WHERE list_contains($prison_ids, w.prison_id)
      AND ($wing_ids IS NULL OR list_contains($wing_ids, w.wing_id))
      AND ($wing_ids IS NULL OR can_see_wings(w.prison_id, $scope_prisons))
      AND wp.month >= $period_start AND wp.month < $period_end
    GROUP BY wp.month
),
counts AS (
    SELECT i.month, i.incident_type, sum(i.incidents)::BIGINT AS incidents
    FROM incident_months i
    WHERE list_contains($prison_ids, i.prison_id)
      AND ($wing_ids IS NULL OR list_contains($wing_ids, i.wing_id))
      AND ($wing_ids IS NULL OR can_see_wings(i.prison_id, $scope_prisons))
      AND i.month >= $period_start AND i.month < $period_end
    GROUP BY ALL
)
SELECT p.month, t.incident_type, coalesce(c.incidents, 0) AS incidents, p.prisoner_years
FROM population p
CROSS JOIN unnest($incident_types) AS t(incident_type)
LEFT JOIN counts c ON c.month = p.month AND c.incident_type = t.incident_type
ORDER BY p.month, t.incident_type
