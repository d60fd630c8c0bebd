-- Monthly incidents of each type over the prisoner-years of the same places and month.
WITH population AS (
    SELECT wp.month, prisoner_years(wp.average_population) AS prisoner_years
    FROM wing_population wp
    JOIN wings w USING (wing_id)
    WHERE in_chosen_places(w.prison_id, w.wing_id, $prison_ids, $wing_ids, $scope_prisons)
      AND wp.month >= $period_start AND wp.month < $period_end
    GROUP BY wp.month
),
counts AS (
    SELECT i.month, i.incident_type, sum(i.incidents)::BIGINT AS incidents
    FROM incident_months i
    WHERE in_chosen_places(i.prison_id, i.wing_id, $prison_ids, $wing_ids, $scope_prisons)
      AND i.month >= $period_start AND i.month < $period_end
    GROUP BY ALL
)
SELECT p.month, t.incident_type, coalesce(c.incidents, 0) AS incidents, p.prisoner_years
FROM population p
CROSS JOIN unnest($incident_types) AS t(incident_type)
LEFT JOIN counts c ON c.month = p.month AND c.incident_type = t.incident_type
ORDER BY p.month, t.incident_type
