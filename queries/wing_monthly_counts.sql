-- Every wing of one prison × month × incident type: incidents, serious incidents and the wing's
-- average population that month (the denominator). Months with no incident count as 0.
WITH wing_months AS (
    SELECT w.wing_id, w.wing_name, wp.month, wp.average_population
    FROM wings w
    JOIN wing_population wp USING (wing_id)
    WHERE w.prison_id = $prison_id
      AND can_see_wings(w.prison_id, $scope_prisons)
      AND wp.month >= $period_start AND wp.month < $period_end
),
counts AS (
    SELECT
        i.wing_id,
        i.month,
        i.incident_type,
        sum(i.incidents)::BIGINT AS incidents,
        sum(i.serious_incidents)::BIGINT AS serious_incidents
    FROM incident_months i
    WHERE i.prison_id = $prison_id
      AND can_see_wings(i.prison_id, $scope_prisons)
      AND i.wing_id IS NOT NULL
      AND i.month >= $period_start AND i.month < $period_end
    GROUP BY ALL
)
SELECT
    wm.wing_id,
    wm.wing_name,
    wm.month,
    t.incident_type,
    coalesce(c.incidents, 0) AS incidents,
    coalesce(c.serious_incidents, 0) AS serious_incidents,
    wm.average_population
FROM wing_months wm
CROSS JOIN unnest($incident_types) AS t(incident_type)
LEFT JOIN counts c ON c.wing_id = wm.wing_id AND c.month = wm.month AND c.incident_type = t.incident_type
ORDER BY wm.wing_id, wm.month, t.incident_type
