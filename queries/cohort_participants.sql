-- Participants of each chosen cohort by role.
SELECT c.cohort_id, p.role, count(*) AS participants
FROM participants p
JOIN chosen_cohorts($prison_ids, $wing_ids, $period_start, $period_end, $scope_prisons, $scope_sdm, $sdm, $cohort_id) c USING (cohort_id)
WHERE ($role IS NULL OR p.role = $role)
GROUP BY ALL
ORDER BY c.cohort_id, p.role
