-- Participants of the cohorts started in the period, by role.
SELECT p.role, count(*) AS participants
FROM participants p
JOIN cohorts c USING (cohort_id)
WHERE in_chosen_places(c.prison_id, c.wing_id, $prison_ids, $wing_ids, $scope_prisons)
  AND c.start_date >= $period_start AND c.start_date < $period_end
GROUP BY p.role
ORDER BY p.role
