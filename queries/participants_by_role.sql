-- Participants of the cohorts started in the period, by role.
SELECT p.role, count(*) AS participants
FROM participants p
JOIN cohorts c USING (cohort_id)
WHERE list_contains($prison_ids, c.prison_id)
  AND ($wing_ids IS NULL OR list_contains($wing_ids, c.wing_id))
  AND ($wing_ids IS NULL OR can_see_wings(c.prison_id, $scope_prisons))
  AND c.start_date >= $period_start AND c.start_date < $period_end
GROUP BY p.role
ORDER BY p.role
